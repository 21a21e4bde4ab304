// Security lint over a valid config: things that load fine but weaken the deployment. Reported at
// start-up and by `deputy check` (as findings with a rule id, in the same format as `deputy scan`).
import type { ConfigIssue } from './errors.ts';
import type { DeputyConfig, UpstreamConfig } from './schema.ts';
import { isLoopback } from './schema.ts';

export function lintConfig(config: DeputyConfig): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const plain = (url: string | undefined, path: string, what: string) => {
    if (!url) return;
    const u = new URL(url);
    if (u.protocol === 'http:' && !isLoopback(u.hostname)) out.push({ path, rule: 'plain-http', message: `${what} uses plain http:// off loopback: ${u.host} sees credentials unencrypted; use https` });
  };
  plain(config.server.publicUrlExplicit ? config.server.publicUrl : undefined, 'server.public_url', 'the public URL (OAuth 2.1 requires https for resource servers)');
  config.auth.issuers.forEach((is, i) => {
    plain(is.issuer, `auth.issuers[${i}].issuer`, 'the issuer');
    plain(is.jwksUri, `auth.issuers[${i}].jwks_uri`, 'the JWKS endpoint');
    plain(is.introspection?.endpoint, `auth.issuers[${i}].introspection.endpoint`, 'the introspection endpoint (Deputy sends client tokens there)');
  });
  config.upstreams.forEach((u: UpstreamConfig, i) => {
    plain(u.type === 'mcp' ? u.url : u.baseUrl, `upstreams[${i}].${u.type === 'mcp' ? 'url' : 'base_url'}`, `upstream '${u.name}'`);
    const c = u.credentials;
    if (c.type === 'client_credentials' || c.type === 'token_exchange') {
      plain(c.tokenEndpoint, `upstreams[${i}].credentials.token_endpoint`, `the token endpoint of upstream '${u.name}'${c.type === 'token_exchange' ? " (Deputy sends users' tokens there)" : ''}`);
      plain(c.issuer, `upstreams[${i}].credentials.issuer`, `the issuer of upstream '${u.name}'`);
    }
    if (c.type === 'user_oauth') plain(c.issuer, `upstreams[${i}].credentials.issuer`, `the authorization server of upstream '${u.name}' (users' tokens come from there)`);
    if (c.type === 'id_jag') {
      plain(c.idpTokenEndpoint, `upstreams[${i}].credentials.idp_token_endpoint`, `the IdP token endpoint of upstream '${u.name}' (Deputy sends users' tokens there)`);
      plain(c.tokenEndpoint, `upstreams[${i}].credentials.token_endpoint`, `the token endpoint of upstream '${u.name}'`);
    }
  });
  config.audit.export.forEach((x, i) => {
    if (x.sink === 'webhook') plain(x.url, `audit.export[${i}].url`, 'the audit export webhook (its headers may carry credentials; the events name users)');
    if (x.sink === 'otlp') plain(x.endpoint, `audit.export[${i}].endpoint`, 'the audit export OTLP endpoint (its headers may carry credentials; the events name users)');
  });
  return out;
}
