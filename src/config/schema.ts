// The configuration contract (BRIEF §4): typed shapes and the parser that validates YAML into them.
// YAML uses snake_case; the typed config uses camelCase. Every key is documented in docs/configuration.md.
import { ConfigError, type ConfigIssue } from './errors.ts';
import { lintConfig } from './lint.ts';
import { parseGatewayLimits, parseUpstreamLimits, type GatewayLimits, type UpstreamLimits } from './limits.ts';
import { parseQuotas, parseUpstreamQuotas, type QuotaConfig, type UpstreamQuotaConfig } from './quotas.ts';
import { Reader } from './reader.ts';
import { resolveSecret, Secret, type SecretSource } from './secrets.ts';
import { claims as parseClaimConditions, parsePolicy, type ClaimConditions, type UpstreamPolicy } from '../policy/config.ts';
import { DEFAULT_AGGREGATE, parseAggregate, type AggregateConfig } from '../upstreams/aggregate/config.ts';

const PINNING_MODES = ['off', 'warn', 'enforce'] as const;
export const CREDENTIAL_TYPES = ['static', 'client_credentials', 'token_exchange', 'user_oauth', 'id_jag', 'passthrough'] as const;
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
/** Asymmetric only: HMAC with a published key is the classic algorithm-confusion hole, and `none` is never allowed. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

export interface ServerConfig {
  host: string;
  port: number;
  /** Canonical external base URL (no trailing slash); every endpoint's resource identifier derives from it. */
  publicUrl: string;
  /** False when public_url was derived from host/port (then port 0 resolves to the bound port). */
  publicUrlExplicit: boolean;
  /** Browser origins allowed to call Deputy; requests with any other `Origin` get 403 (DNS-rebinding defence). */
  allowedOrigins: string[];
  maxBodyBytes: number;
  /** On SIGTERM: how long in-flight requests and streams may take to finish before connections are cut. */
  shutdownGraceMs: number;
  /** A client must send its request headers within this (slow-loris clients are cut; 408). */
  headersTimeoutMs: number;
  /** … and its whole request, body included, within this (408). */
  requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: number;
  /** Larger request headers get 431. */
  maxHeaderBytes: number;
  /** Open client connections at most (0: no limit beyond the process's file descriptors). */
  maxConnections: number;
}

export interface IntrospectionConfig {
  endpoint: string;
  client: ClientAuthConfig;
  cacheTtlSeconds: number;
}

export interface IssuerConfig {
  issuer: string;
  jwksUri?: string;
  algorithms: string[];
  /** When set, the JWT `typ` header must equal it (RFC 9068: `at+jwt`). */
  typ?: string;
  introspection?: IntrospectionConfig;
}

export interface AuthConfig {
  issuers: IssuerConfig[];
  requiredScopes: string[];
  /** Extra audience values accepted besides the endpoint's resource URI (e.g. an Entra application ID URI). */
  audiences: string[];
  clockSkewSeconds: number;
  /** Upper bound on how long a verified token stays cached (never beyond its `exp`). */
  cacheTtlSeconds: number;
}

export interface ClientAuthConfig {
  clientId: string;
  method: (typeof CLIENT_AUTH_METHODS)[number];
  clientSecret?: Secret;
  privateKey?: Secret;
  keyId?: string;
  signingAlg?: string;
}

export interface TokenEndpointConfig {
  /** Either given directly, or discovered from `issuer` metadata (RFC 8414 / OIDC discovery). */
  tokenEndpoint?: string;
  issuer?: string;
  client: ClientAuthConfig;
  scope?: string;
  audience?: string;
  resource?: string;
  extraParams: Record<string, string>;
  timeoutMs: number;
}

export interface IdentityAssertionConfig {
  header: string;
  ttlSeconds: number;
}

/** Deputy's own signing keys (top-level `identity`), used for identity assertions. */
export interface IdentityConfig {
  /** The first key signs; all are published at /.well-known/jwks.json, so a new key can be added before the old one is removed. */
  signingKeys: Secret[];
  /** Overrides the algorithm derived from the key (one of ASYMMETRIC_ALGORITHMS). */
  algorithm?: string;
}

export type CredentialsConfig =
  | { type: 'static'; headers: Record<string, Secret>; /** A bare credential placed per the API's security scheme (OpenAPI upstreams). */ token?: Secret; identityAssertion?: IdentityAssertionConfig }
  | ({ type: 'client_credentials'; identityAssertion?: IdentityAssertionConfig } & TokenEndpointConfig)
  | ({
      type: 'token_exchange';
      /** `rfc8693` (standard) or `jwt_bearer_obo` (Entra-style on-behalf-of). */
      grant: 'rfc8693' | 'jwt_bearer_obo';
      requestedTokenType?: string;
      subjectTokenType: string;
      actorToken?: Secret;
      actorTokenType?: string;
      /** Audience the exchanged JWT must carry; defaults to `audience`, else `resource`. */
      expectedAudience?: string;
    } & TokenEndpointConfig)
  | UserOAuthConfig
  | IdJagConfig
  | { type: 'passthrough'; acknowledgeSpecViolation: true; requireAudience?: string };

/**
 * `user_oauth`: each user connects their own account at the upstream's authorization server (a
 * consent flow started from their MCP client); Deputy calls the upstream with that user's token,
 * held encrypted in the vault and refreshed there. See docs/connected-accounts.md.
 */
export interface UserOAuthConfig {
  type: 'user_oauth';
  /** The upstream's authorization server; else discovered from the upstream's RFC 9728 metadata. */
  issuer?: string;
  /**
   * A client pre-registered for Deputy. Absent: Deputy's Client ID Metadata Document when the server
   * supports it (and public_url is https), else RFC 7591 dynamic registration (src/connect/client-identity.ts).
   */
  client?: ClientAuthConfig;
  scopes: string[];
  /** RFC 8707 resource; defaults to the upstream URL (MCP) or base_url (OpenAPI). */
  resource?: string;
  timeoutMs: number;
}

/**
 * `id_jag`: the user's own upstream token without a consent screen, where the enterprise IdP supports
 * Identity Assertion JWT Authorization Grants: RFC 8693 at the IdP (subject: the user's token;
 * requested: an ID-JAG for the upstream's AS), then RFC 7523 jwt-bearer at the upstream's AS.
 */
export interface IdJagConfig {
  type: 'id_jag';
  idpTokenEndpoint: string;
  client: ClientAuthConfig;
  /** The upstream AS (its issuer) the ID-JAG is for. */
  audience: string;
  /** The upstream AS's token endpoint (jwt-bearer grant there). */
  tokenEndpoint: string;
  resource?: string;
  scope?: string;
  subjectTokenType: string;
  timeoutMs: number;
}

/** Where connected accounts' tokens live, encrypted (AES-256-GCM; the first key encrypts, all decrypt). */
export interface VaultConfig {
  /** `sqlite:PATH` or `postgres://…` (replicas). */
  store: string;
  keys: { id: string; secret: Secret }[];
}

/** The admin console: who may use it (ID-token claims that must match), and what to ask the IdP for. */
export interface AdminConfig {
  requireClaims: ClaimConditions;
  /** Scopes for the admin sign-in: openid plus, by default, the names of the required claims. */
  scope: string;
}

/** How a person signs in on Deputy's connect pages: OIDC at the same IdP that issues the MCP tokens. */
export interface LoginConfig {
  issuer: string;
  /** Deputy's web client at that IdP: client_secret_basic (default), client_secret_post or private_key_jwt. */
  client: ClientAuthConfig;
}

export type CredentialMode = CredentialsConfig['type'];

interface UpstreamCommon {
  name: string;
  credentials: CredentialsConfig;
  requiredScopes: string[];
  timeoutMs: number;
  /** Concurrency, stream, deadline and size limits for calls to this upstream. */
  limits: UpstreamLimits;
  /** Per-user and per-tool rate limits on this upstream. */
  quotas?: UpstreamQuotaConfig;
  /** Who may use which tools (allow/deny globs, per-tool scopes and claim conditions); see docs/aggregation-and-policy.md. */
  policy?: UpstreamPolicy;
  /** Tool-definition pinning for this upstream; defaults to the top-level `pinning`. */
  pinning?: 'off' | 'warn' | 'enforce';
}

export interface McpUpstreamConfig extends UpstreamCommon {
  type: 'mcp';
  url: string;
  /** The upstream's MCP era: `auto` probes server/discover at first use (see docs/protocol-eras.md). */
  protocol: 'auto' | '2025-11-25' | '2026-07-28';
}

export interface OpenApiUpstreamConfig extends UpstreamCommon {
  type: 'openapi';
  spec: string;
  baseUrl: string;
  /** Type-specific options, validated by the OpenAPI upstream itself. */
  options: Record<string, unknown>;
}

export type UpstreamConfig = McpUpstreamConfig | OpenApiUpstreamConfig;

export interface AuditConfig {
  /** `sqlite:PATH`, `postgres://…`, `stdout`, or `none`. */
  store: string;
  /** PostgreSQL only: where events wait (JSON lines) while the database is unreachable. Default: next to the config. */
  spoolDir?: string;
  /** Names this replica's hash chain; default hostname-pid-random (a new chain per process). */
  replicaId?: string;
  /** Where the chain is shipped (SIEM): file/stdout, syslog, webhook, OpenTelemetry logs (otlp); see docs/governance.md. */
  export: AuditExportConfig[];
}

export interface AuditExportConfig {
  /** Names the exporter's cursor (default `<sink>-<index>`). */
  name: string;
  sink: 'file' | 'syslog' | 'webhook' | 'otlp';
  format: 'json' | 'ocsf' | 'cef' | 'leef';
  /** file: a path, or `-` for stdout. */
  path?: string;
  /** syslog: tcp://host:port, tls://host:port or udp://host:port. */
  address?: string;
  /** webhook: the URL; webhook and otlp: headers (secrets allowed as references). */
  url?: string;
  /** otlp: the OTLP/HTTP logs endpoint, path included (http://collector:4318/v1/logs). */
  endpoint?: string;
  headers: Record<string, Secret>;
  batchSize: number;
  intervalMs: number;
}

/** Shared state for replicas: `memory` (default, per process) or `redis://…` with an encryption key. */
export interface StateConfig {
  store: string;
  /** Encrypts tokens and sessions in Redis (AES-256-GCM); required with redis. */
  encryptionKey?: Secret;
  /** Retired keys, still accepted for reading so rotation does not invalidate what is stored. */
  previousKeys: Secret[];
}

export interface MetricsConfig {
  /** Serve Prometheus metrics at /metrics. */
  enabled: boolean;
  /** When set, /metrics requires `Authorization: Bearer <token>`. */
  token?: Secret;
}

export interface TracingConfig {
  /** Emit OpenTelemetry spans through the process's registered tracer provider. */
  enabled: boolean;
}

export interface DeputyConfig {
  server: ServerConfig;
  /** Overload protection: requests in flight, streams and sessions. */
  limits: GatewayLimits;
  /** Gateway-wide rate limits per user and per client, and where buckets live. */
  quotas: QuotaConfig;
  auth: AuthConfig;
  upstreams: UpstreamConfig[];
  audit: AuditConfig;
  state: StateConfig;
  metrics: MetricsConfig;
  tracing: TracingConfig;
  /** Deputy's signing keys for identity assertions; no keys → an ephemeral key is generated when one is needed. */
  identity?: IdentityConfig;
  /** Naming on the aggregated /mcp endpoint. */
  aggregate: AggregateConfig;
  /** Tool-definition pinning (docs/governance.md): `enforce` (default) withholds changed definitions until approved. */
  pinning: 'off' | 'warn' | 'enforce';
  /** The admin console at /admin (off unless enabled), signed in through `login`. */
  admin?: AdminConfig;
  /** Connected accounts (user_oauth): the token vault and the sign-in for connect pages. */
  vault?: VaultConfig;
  login?: LoginConfig;
  /** Secrets resolved from files; watched while serving. */
  secrets: Secret[];
  /** Non-fatal findings (e.g. passthrough enabled) shown at start-up and by `deputy check`. */
  warnings: ConfigIssue[];
}

export interface ParseOptions {
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  source?: string;
}

const UPSTREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
/** Headers whose value is a credential: a literal here would put a secret in the config file. */
const SENSITIVE_HEADER = /authorization|cookie|token|secret|api[-_]?key|password/i;
/** Headers the upstream must never get from config: they would break HTTP framing or identity. */
const FORBIDDEN_STATIC_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'mcp-session-id', 'mcp-protocol-version']);

export function parseConfig(raw: unknown, opts: ParseOptions): DeputyConfig {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const secrets: Secret[] = [];
  const env = opts.env ?? process.env;
  const root = new Reader(raw ?? {}, '', issues);
  if (!root.isObject()) throw new ConfigError([{ path: '', message: 'the file must be a YAML mapping with server, auth, upstreams and audit keys' }], opts.source);

  const secret = (r: Reader, key: string, opts2: { required?: boolean } = {}): Secret | undefined => {
    const v = r.raw(key);
    if (v === undefined || v === null) {
      if (opts2.required) r.fail('is required: a secret reference { env: NAME } or { file: PATH }', key);
      return undefined;
    }
    return secretRef(new Reader(v, r.child(key), issues), { allowLiteral: false });
  };

  const secretRef = (r: Reader, o: { allowLiteral: boolean }): Secret | undefined => {
    let source: SecretSource | undefined;
    let literal: string | undefined;
    if (typeof r.value === 'string') {
      if (!o.allowLiteral) {
        r.fail('literal secrets are not allowed in the config file; use { env: NAME } or { file: PATH }');
        return undefined;
      }
      source = { kind: 'literal' };
      literal = r.value;
    } else if (r.isObject()) {
      const name = r.string('env');
      const path = r.string('file');
      r.rejectUnknownKeys();
      if (name && path) r.fail('give either env or file, not both');
      else if (name) source = { kind: 'env', name };
      else if (path) source = { kind: 'file', path };
      else r.fail('expected { env: NAME } or { file: PATH }');
    } else {
      r.fail('expected a secret reference { env: NAME } or { file: PATH }');
    }
    if (!source) return undefined;
    try {
      const s = resolveSecret(source, opts.baseDir, env, literal);
      if (s.source.kind === 'file') secrets.push(s);
      return s;
    } catch (error) {
      r.fail((error as Error).message);
      return undefined;
    }
  };

  // server
  const s = root.object('server');
  const host = s.string('host') ?? '127.0.0.1';
  if (!/^(\[?[0-9A-Fa-f:.]+\]?|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)$/.test(host)) s.fail('expected an IP address or a host name to listen on, e.g. 127.0.0.1 or 0.0.0.0 (public_url is where the URL goes)', 'host');
  const port = s.number('port', 8080, { min: 0, max: 65535, integer: true });
  let publicUrl = s.url('public_url') ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  publicUrl = publicUrl.replace(/\/+$/, '');
  if (s.has('public_url')) {
    const u = new URL(publicUrl);
    if (u.search || u.hash) s.fail('must not contain a query or fragment', 'public_url');
  }
  const allowedOrigins = s.stringList('allowed_origins').map((o) => o.replace(/\/+$/, ''));
  const maxBodyBytes = s.number('max_body_bytes', 1_048_576, { min: 1024, max: 64 * 1_048_576, integer: true });
  const shutdownGraceMs = s.number('shutdown_grace_ms', 10_000, { min: 0, max: 600_000, integer: true });
  const headersTimeoutMs = s.number('headers_timeout_ms', 10_000, { min: 100, max: 600_000, integer: true });
  const requestTimeoutMs = s.number('request_timeout_ms', 30_000, { min: 100, max: 3_600_000, integer: true });
  if (requestTimeoutMs < headersTimeoutMs) s.fail(`must be at least headers_timeout_ms (${headersTimeoutMs}): the whole request includes its headers`, 'request_timeout_ms');
  const keepAliveTimeoutMs = s.number('keep_alive_timeout_ms', 5_000, { min: 100, max: 600_000, integer: true });
  const maxHeaderBytes = s.number('max_header_bytes', 32 * 1024, { min: 8 * 1024, max: 1_048_576, integer: true });
  const maxConnections = s.number('max_connections', 0, { min: 0, max: 10_000_000, integer: true });
  s.rejectUnknownKeys();
  const limits = parseGatewayLimits(root.object('limits'));
  const quotas = parseQuotas(root.object('quotas'));

  // auth
  const a = root.object('auth', true);
  const issuerReaders = a.list('issuers', true);
  if (a.has('issuers') && issuerReaders.length === 0) a.fail('needs at least one issuer (the authorization server whose tokens Deputy accepts)', 'issuers');
  const issuers: IssuerConfig[] = issuerReaders.map((r) => {
    const issuer = r.url('issuer', { required: true, hint: 'the exact `iss` value of tokens, e.g. https://idp.example.com' }) ?? '';
    const jwksUri = r.url('jwks_uri');
    let algorithms = DEFAULT_ALGORITHMS;
    if (r.has('algorithms')) {
      algorithms = r.stringList('algorithms');
      for (const [i, alg] of algorithms.entries()) {
        if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
          const why = alg.toLowerCase() === 'none' ? 'unsigned tokens are never accepted' : alg.startsWith('HS') ? 'HMAC algorithms would let anyone holding the public key forge tokens' : 'unknown algorithm';
          r.fail(`${JSON.stringify(alg)} is not allowed (${why}); use one of ${ASYMMETRIC_ALGORITHMS.join(', ')}`, `algorithms[${i}]`);
        }
      }
      if (algorithms.length === 0) r.fail(`must list at least one of ${ASYMMETRIC_ALGORITHMS.join(', ')}`, 'algorithms');
    }
    const typ = r.string('typ');
    let introspection: IntrospectionConfig | undefined;
    if (r.has('introspection')) {
      const ir = r.object('introspection');
      const endpoint = ir.url('endpoint', { required: true, hint: 'the RFC 7662 introspection endpoint URL' }) ?? '';
      introspection = { endpoint, client: clientAuth(ir, secret), cacheTtlSeconds: ir.number('cache_ttl_seconds', 60, { min: 0, max: 3600 }) };
      ir.rejectUnknownKeys();
    }
    r.rejectUnknownKeys();
    return { issuer, jwksUri, algorithms, typ, introspection };
  });
  const seenIssuers = new Set<string>();
  for (const [i, is] of issuers.entries()) {
    if (seenIssuers.has(is.issuer)) issues.push({ path: `auth.issuers[${i}].issuer`, message: `duplicate issuer ${is.issuer}; list each issuer once` });
    seenIssuers.add(is.issuer);
  }
  const auth: AuthConfig = {
    issuers,
    requiredScopes: a.stringList('required_scopes'),
    audiences: a.stringList('audiences'),
    clockSkewSeconds: a.number('clock_skew_seconds', 30, { min: 0, max: 300 }),
    cacheTtlSeconds: a.number('cache_ttl_seconds', 300, { min: 0, max: 3600 }),
  };
  a.rejectUnknownKeys();

  // upstreams
  const upstreamReaders = root.list('upstreams', true);
  const names = new Set<string>();
  const upstreams: UpstreamConfig[] = [];
  for (const r of upstreamReaders) {
    if (!r.isObject()) {
      r.fail('expected a mapping with name, type and credentials');
      continue;
    }
    const name = r.string('name', { required: true, hint: 'letters, digits, _ and -, e.g. notes' }) ?? '';
    if (name && !UPSTREAM_NAME.test(name)) r.fail('must match [A-Za-z0-9][A-Za-z0-9_-]{0,31} (it becomes a URL path segment and a tool-name prefix)', 'name');
    if (name && names.has(name)) r.fail(`duplicate upstream name '${name}'`, 'name');
    names.add(name);
    const type = r.oneOf('type', ['mcp', 'openapi'] as const);
    const credentials = credentialsConfig(r.object('credentials', true), secret, secretRef, warnings, name);
    if (type === 'openapi' && r.has('limits')) r.fail('applies to type: mcp upstreams; an OpenAPI upstream is bounded by timeout_ms (the whole call), connections and max_response_bytes', 'limits');
    const common = {
      name,
      credentials,
      requiredScopes: r.stringList('required_scopes'),
      timeoutMs: r.number('timeout_ms', 30_000, { min: 100, max: 600_000, integer: true }),
      limits: parseUpstreamLimits(r.object('limits')),
      quotas: r.has('quotas') ? parseUpstreamQuotas(r.object('quotas')) : undefined,
      policy: r.has('policy') ? parsePolicy(r.object('policy')) : undefined,
      pinning: r.has('pinning') ? r.oneOf('pinning', PINNING_MODES) : undefined,
    };
    if (type === 'mcp') {
      const url = r.url('url', { required: true, hint: 'the upstream MCP endpoint, e.g. http://127.0.0.1:9001/mcp' }) ?? '';
      const protocol = r.oneOf('protocol', ['auto', '2025-11-25', '2026-07-28'] as const, 'auto');
      upstreams.push({ ...common, type, url, protocol });
    } else {
      const spec = r.string('spec', { required: true, hint: 'a file path or URL of the OpenAPI document' }) ?? '';
      const baseUrl = r.url('base_url', { required: true, hint: 'where the API is served; spec `servers` are never used' }) ?? '';
      const options: Record<string, unknown> = {};
      for (const key of Object.keys(r.value as object)) {
        if (['name', 'type', 'credentials', 'required_scopes', 'timeout_ms', 'limits', 'quotas', 'policy', 'pinning', 'spec', 'base_url'].includes(key)) continue;
        options[key] = r.raw(key);
      }
      upstreams.push({ ...common, type, spec, baseUrl: baseUrl.replace(/\/+$/, ''), options });
    }
    if (type === 'mcp') r.rejectUnknownKeys();
  }

  // audit
  const au = root.object('audit');
  const store = au.string('store') ?? 'sqlite:./deputy-audit.db';
  if (!/^(sqlite:.+|postgres(ql)?:\/\/.+|stdout|none)$/.test(store)) au.fail('expected sqlite:PATH, postgres://…, stdout or none', 'store');
  const spoolDir = au.string('spool_dir');
  const replicaId = au.string('replica_id');
  if (replicaId && !/^[\w.:-]{1,64}$/.test(replicaId)) au.fail('must be 1-64 letters, digits, _ . : or -', 'replica_id');
  const exportReaders = au.list('export');
  if (exportReaders.length && !/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(store)) au.fail('needs audit.store sqlite:PATH or postgres://…: the exporters read the stored chain (it is also their spool)', 'export');
  const exports: AuditExportConfig[] = exportReaders.map((er, i) => {
    const sink = er.oneOf('sink', ['file', 'syslog', 'webhook', 'otlp'] as const);
    const fmt = er.oneOf('format', ['json', 'ocsf', 'cef', 'leef'] as const, 'json');
    const out: AuditExportConfig = { name: er.string('name') ?? `${sink}-${i}`, sink, format: fmt, headers: {}, batchSize: er.number('batch_size', 100, { min: 1, max: 10_000, integer: true }), intervalMs: er.number('interval_ms', 1000, { min: 10, max: 3_600_000, integer: true }) };
    if (sink === 'file') out.path = er.string('path', { required: true, hint: 'a file to append JSON lines to, or - for stdout' });
    if (sink === 'syslog') {
      out.address = er.string('address', { required: true, hint: 'tcp://host:514, tls://host:6514 or udp://host:514' });
      if (out.address && !/^(tcp|tls|udp):\/\/[^/]+:\d+$/.test(out.address)) er.fail('expected tcp://host:port, tls://host:port or udp://host:port', 'address');
    }
    if (sink === 'webhook') out.url = er.url('url', { required: true, hint: 'where batches are POSTed' });
    if (sink === 'otlp') out.endpoint = otlpEndpoint(er);
    if (sink === 'webhook' || sink === 'otlp') {
      const hr = er.object('headers');
      for (const name of Object.keys((hr.value as object) ?? {})) {
        const v = secretRef(new Reader(hr.raw(name), hr.child(name), issues), { allowLiteral: !SENSITIVE_HEADER.test(name) });
        if (v) out.headers[name] = v;
      }
    }
    er.rejectUnknownKeys();
    return out;
  });
  au.rejectUnknownKeys();

  // state: shared by replicas (Redis) or per process (memory)
  const st = root.object('state');
  const stateStore = st.string('store') ?? 'memory';
  if (!/^(memory|rediss?:\/\/.+)$/.test(stateStore)) st.fail('expected memory or redis://host:port (rediss:// for TLS)', 'store');
  const encryptionKey = secret(st, 'encryption_key', { required: stateStore !== 'memory' });
  if (quotas.shared && stateStore === 'memory') issues.push({ path: 'quotas.shared', message: 'needs shared state: set state.store to redis://host:port (or set quotas.shared: false for per-replica buckets)' });
  const previousKeys = st.list('previous_keys').map((kr) => secretRef(kr, { allowLiteral: false })).filter((k): k is Secret => k !== undefined);
  st.rejectUnknownKeys();

  const mr = root.object('metrics');
  const metrics: MetricsConfig = { enabled: mr.boolean('enabled', false), token: secret(mr, 'token') };
  mr.rejectUnknownKeys();
  const tr = root.object('tracing');
  const tracing: TracingConfig = { enabled: tr.boolean('enabled', false) };
  tr.rejectUnknownKeys();

  // identity: keys Deputy signs identity assertions with
  const idr = root.object('identity');
  const signingKeys = idr.list('signing_keys').map((kr) => secretRef(kr, { allowLiteral: false })).filter((k): k is Secret => k !== undefined);
  const identityAlgorithm = idr.has('algorithm') ? idr.oneOf('algorithm', ASYMMETRIC_ALGORITHMS) : undefined;
  idr.rejectUnknownKeys();
  if (signingKeys.length === 0 && upstreams.some((u) => 'identityAssertion' in u.credentials && u.credentials.identityAssertion)) {
    warnings.push({ path: 'identity.signing_keys', rule: 'ephemeral-identity-key', message: 'not set: identity assertions are signed with an ephemeral key generated at start-up, so backends must refetch the JWKS after every restart and replicas publish different keys; configure identity.signing_keys' });
  }

  const aggregate = root.has('aggregate') ? parseAggregate(root.object('aggregate'), upstreams.map((u) => u.name)) : DEFAULT_AGGREGATE;

  // connected accounts: the vault and the connect pages' sign-in, needed by user_oauth upstreams
  const userOAuth = upstreams.filter((u) => u.credentials.type === 'user_oauth').map((u) => u.name);
  let vault: VaultConfig | undefined;
  if (root.has('vault')) {
    const vr = root.object('vault');
    const vstore = vr.string('store') ?? 'sqlite:./deputy-vault.db';
    if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(vstore)) vr.fail('expected sqlite:PATH or postgres://… (replicas)', 'store');
    const keyReaders = vr.list('keys', true);
    const keys: { id: string; secret: Secret }[] = [];
    for (const kr of keyReaders) {
      const id = kr.string('id', { required: true, hint: 'a short name for the key, e.g. k1 (stored beside each row)' }) ?? '';
      if (id && !/^[\w.-]{1,32}$/.test(id)) kr.fail('must be 1-32 letters, digits, _ . or -', 'id');
      const key = secret(kr, 'secret', { required: true });
      if (key && key.value().length < 32) kr.fail('must be at least 32 characters of random data (e.g. openssl rand -base64 48)', 'secret');
      kr.rejectUnknownKeys();
      if (id && keys.some((k) => k.id === id)) kr.fail(`duplicate key id '${id}'`, 'id');
      if (id && key) keys.push({ id, secret: key });
    }
    if (vr.has('keys') && keyReaders.length === 0) vr.fail('needs at least one key: [{ id: k1, secret: { env: DEPUTY_VAULT_KEY } }] (the first encrypts; list old keys after it to rotate)', 'keys');
    vr.rejectUnknownKeys();
    vault = { store: vstore, keys };
  } else if (userOAuth.length) {
    issues.push({ path: 'vault', message: `upstream${userOAuth.length > 1 ? 's' : ''} ${userOAuth.map((n) => `'${n}'`).join(', ')} use${userOAuth.length > 1 ? '' : 's'} user_oauth: add vault: { store: sqlite:./deputy-vault.db, keys: [{ id: k1, secret: { env: DEPUTY_VAULT_KEY } }] } to hold the users' tokens encrypted` });
  }
  let login: LoginConfig | undefined;
  if (root.has('login')) {
    const lr = root.object('login');
    const issuer = lr.url('issuer', { required: true, hint: 'the IdP people sign in with: the issuer of the MCP tokens' }) ?? '';
    const client = clientAuth(lr, secret);
    lr.rejectUnknownKeys();
    if (issuer && !issuers.some((i) => i.issuer === issuer)) lr.fail(`must be one of auth.issuers (${issuers.map((i) => i.issuer).join(', ')}): the person who signs in must be the user the MCP token names`, 'issuer');
    if (client.clientSecret || client.privateKey) login = { issuer, client };
  } else if (userOAuth.length) {
    issues.push({ path: 'login', message: `user_oauth upstreams need a sign-in for the connect pages: add login: { issuer: <your IdP, as in auth.issuers>, client_id: deputy-web, client_secret: { env: DEPUTY_WEB_SECRET } } (redirect URI ${publicUrl}/connect/login/callback)` });
  }

  const pinning = root.has('pinning') ? root.oneOf('pinning', PINNING_MODES) : 'enforce';
  let admin: AdminConfig | undefined;
  if (root.has('admin')) {
    const ar = root.object('admin');
    const enabled = ar.boolean('enabled', false);
    const requireClaims = parseClaimConditions(ar);
    const scope = ar.stringList('scope').join(' ') || ['openid', ...Object.keys(requireClaims)].join(' ');
    ar.rejectUnknownKeys();
    if (enabled && Object.keys(requireClaims).length === 0) ar.fail('is required with enabled: true: the ID-token claims an admin must have, e.g. claims: { groups: [deputy-admins] }', 'claims');
    if (enabled && !root.has('login')) ar.fail('needs login: (the IdP admins sign in with, as for connected accounts)', 'enabled');
    if (enabled) admin = { requireClaims, scope };
  }
  root.rejectUnknownKeys();
  if (issues.length) {
    for (const x of secrets) x.close();
    throw new ConfigError(issues, opts.source);
  }
  const config: DeputyConfig = { server: { host, port, publicUrl, publicUrlExplicit: s.has('public_url'), allowedOrigins, maxBodyBytes, shutdownGraceMs, headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxHeaderBytes, maxConnections }, limits, quotas, auth, upstreams, audit: { store, spoolDir, replicaId, export: exports }, state: { store: stateStore, encryptionKey, previousKeys }, metrics, tracing, identity: { signingKeys, algorithm: identityAlgorithm }, aggregate, pinning, admin, vault, login, secrets, warnings };
  warnings.push(...lintConfig(config));
  return config;
}

type SecretFn = (r: Reader, key: string, o?: { required?: boolean }) => Secret | undefined;
type SecretRefFn = (r: Reader, o: { allowLiteral: boolean }) => Secret | undefined;

function clientAuth(r: Reader, secret: SecretFn): ClientAuthConfig {
  const clientId = r.string('client_id', { required: true, hint: "Deputy's own client id at the authorization server" }) ?? '';
  const hasKey = r.has('private_key');
  const method = r.oneOf('client_auth', CLIENT_AUTH_METHODS, hasKey ? 'private_key_jwt' : 'client_secret_basic');
  const out: ClientAuthConfig = { clientId, method };
  if (method === 'private_key_jwt') {
    out.privateKey = secret(r, 'private_key', { required: true });
    out.keyId = r.string('key_id');
    out.signingAlg = r.string('signing_alg');
    if (r.has('client_secret')) r.fail('not used with client_auth: private_key_jwt; remove it', 'client_secret');
  } else {
    out.clientSecret = secret(r, 'client_secret', { required: true });
  }
  return out;
}

/** audit.export[].endpoint of an otlp sink: the full OTLP/HTTP logs URL, sent to as is. */
function otlpEndpoint(er: Reader): string | undefined {
  const example = 'e.g. http://collector:4318/v1/logs';
  const v = er.string('endpoint', { required: true, hint: `the collector's OTLP/HTTP logs endpoint, ${example}` });
  if (!v) return undefined;
  let u: URL;
  try {
    u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    er.fail(`expected an absolute http(s) URL, got ${JSON.stringify(v)}: Deputy sends OTLP/HTTP with JSON (not gRPC), ${example}`, 'endpoint');
    return undefined;
  }
  if (u.username || u.password) er.fail('must not carry credentials (they would not be sent); use headers, e.g. headers: { Authorization: { env: OTLP_TOKEN } }', 'endpoint');
  else if (u.pathname === '/' && !u.search) er.fail(`has no path: Deputy POSTs to the endpoint as given and does not add /v1/logs; use ${u.origin}/v1/logs`, 'endpoint');
  else return v;
  return undefined;
}

function credentialsConfig(r: Reader, secret: SecretFn, secretRef: SecretRefFn, warnings: ConfigIssue[], upstream: string): CredentialsConfig {
  const type = r.oneOf('type', CREDENTIAL_TYPES);
  let out: CredentialsConfig;
  switch (type) {
    case 'static': {
      const token = r.has('token') ? secret(r, 'token') : undefined;
      if (!r.has('headers') && !r.has('token')) r.fail('static credentials need headers (name: secret reference) or token (placed per the API security scheme)', 'headers');
      const h = r.object('headers');
      const headers: Record<string, Secret> = {};
      if (h.isObject()) {
        for (const name of Object.keys(h.value as object)) {
          const hr = new Reader(h.raw(name), h.child(name), r.issues);
          if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) hr.fail('is not a valid HTTP header name');
          else if (FORBIDDEN_STATIC_HEADERS.has(name.toLowerCase())) hr.fail('is managed by Deputy and cannot be set here');
          // Non-secret headers (X-Tenant: acme) may be literal; anything credential-like must be a reference.
          const value = secretRef(hr, { allowLiteral: !SENSITIVE_HEADER.test(name) });
          if (value) headers[name] = value;
        }
      }
      out = { type, headers, token, identityAssertion: identityAssertion(r) };
      break;
    }
    case 'client_credentials': {
      out = { type, ...tokenEndpoint(r, secret), identityAssertion: identityAssertion(r) };
      break;
    }
    case 'token_exchange': {
      const grant = r.oneOf('grant', ['rfc8693', 'jwt_bearer_obo'] as const, 'rfc8693');
      const actor = r.has('actor_token') ? secret(r, 'actor_token') : undefined;
      out = {
        type,
        grant,
        ...tokenEndpoint(r, secret),
        requestedTokenType: r.string('requested_token_type') ?? (grant === 'rfc8693' ? 'urn:ietf:params:oauth:token-type:access_token' : undefined),
        subjectTokenType: r.string('subject_token_type') ?? 'urn:ietf:params:oauth:token-type:access_token',
        actorToken: actor,
        actorTokenType: actor ? (r.string('actor_token_type') ?? 'urn:ietf:params:oauth:token-type:jwt') : undefined,
        expectedAudience: r.string('expected_audience'),
      };
      if (!out.audience && !out.resource && !out.scope) r.fail('needs at least one of audience, resource or scope so the exchanged token is bound to this upstream', 'audience');
      break;
    }
    case 'user_oauth': {
      // Without client_id, Deputy identifies itself with its Client ID Metadata Document or registers
      // (RFC 7591) at the authorization server; a secret or key alone belongs to no client.
      if (!r.has('client_id')) {
        for (const k of ['client_secret', 'private_key', 'client_auth', 'key_id', 'signing_alg']) {
          if (r.has(k)) r.fail("needs client_id (the client it belongs to); or remove it to let Deputy use its Client ID Metadata Document or register itself (RFC 7591) at the authorization server", k);
        }
      }
      const scopes = r.has('scopes') ? r.stringList('scopes') : [];
      out = { type, issuer: r.url('issuer'), client: r.has('client_id') ? clientAuth(r, secret) : undefined, scopes, resource: r.url('resource'), timeoutMs: r.number('timeout_ms', 10_000, { min: 100, max: 120_000, integer: true }) };
      break;
    }
    case 'id_jag': {
      const idpTokenEndpoint = r.url('idp_token_endpoint', { required: true, hint: "the enterprise IdP's token endpoint (RFC 8693 there issues the ID-JAG)" }) ?? '';
      const audience = r.string('audience', { required: true, hint: "the upstream authorization server's issuer: the ID-JAG's audience" }) ?? '';
      const tokenEndpoint = r.url('token_endpoint', { required: true, hint: "the upstream authorization server's token endpoint (RFC 7523 jwt-bearer there)" }) ?? '';
      out = {
        type, idpTokenEndpoint, audience, tokenEndpoint, client: clientAuth(r, secret),
        resource: r.url('resource'), scope: r.stringList('scope').join(' ') || undefined,
        subjectTokenType: r.string('subject_token_type') ?? 'urn:ietf:params:oauth:token-type:access_token',
        timeoutMs: r.number('timeout_ms', 10_000, { min: 100, max: 120_000, integer: true }),
      };
      break;
    }
    case 'passthrough': {
      if (r.raw('acknowledge_spec_violation') !== true) {
        r.fail(
          'passthrough forwards the client\'s token to the upstream, which the MCP specification forbids (MUST NOT: it makes Deputy a confused deputy and breaks audience binding). ' +
            'Prefer token_exchange (keeps the user\'s identity), client_credentials (service account, optionally with identity_assertion) or static. ' +
            'If you accept the risk, set acknowledge_spec_violation: true',
          'acknowledge_spec_violation',
        );
      }
      const requireAudience = r.string('require_audience');
      out = { type, acknowledgeSpecViolation: true, requireAudience };
      warnings.push({
        path: r.child('type'),
        rule: 'passthrough',
        message: `upstream '${upstream}' uses token passthrough: clients' tokens are forwarded (violates the MCP specification's token-passthrough MUST NOT${requireAudience ? `; only tokens whose aud includes ${requireAudience} are forwarded` : '; consider require_audience'})`,
      });
      break;
    }
  }
  r.rejectUnknownKeys();
  return out;
}

/** `identity_assertion: { header, ttl_seconds }`: a JWT Deputy signs naming the user, for service-account upstreams. */
function identityAssertion(r: Reader): IdentityAssertionConfig | undefined {
  if (!r.has('identity_assertion')) return undefined;
  const ia = r.object('identity_assertion');
  const header = ia.string('header') ?? 'X-Deputy-Identity';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) ia.fail('is not a valid HTTP header name', 'header');
  else if (header.toLowerCase() === 'authorization' || FORBIDDEN_STATIC_HEADERS.has(header.toLowerCase())) ia.fail('would replace a header Deputy manages; use e.g. X-Deputy-Identity', 'header');
  const out = { header, ttlSeconds: ia.number('ttl_seconds', 60, { min: 5, max: 3600, integer: true }) };
  ia.rejectUnknownKeys();
  return out;
}

/** Parameters Deputy sets itself; `extra_params` must not override them. */
const RESERVED_TOKEN_PARAMS = new Set(['grant_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'assertion', 'requested_token_use', 'requested_token_type', 'scope', 'audience', 'resource']);

function tokenEndpoint(r: Reader, secret: SecretFn): TokenEndpointConfig {
  const tokenEndpoint = r.url('token_endpoint');
  const issuer = r.url('issuer');
  if (!tokenEndpoint && !issuer) r.fail('give token_endpoint, or issuer to discover it from the authorization server metadata', 'token_endpoint');
  const extra = r.object('extra_params');
  const extraParams: Record<string, string> = {};
  for (const k of Object.keys(extra.value as object)) {
    const v = extra.raw(k);
    if (typeof v !== 'string') extra.fail('expected a string', k);
    else if (RESERVED_TOKEN_PARAMS.has(k)) extra.fail(`is set by Deputy; ${['scope', 'audience', 'resource'].includes(k) ? `use the ${k} key of these credentials instead` : 'remove it'}`, k);
    else extraParams[k] = v;
  }
  return {
    tokenEndpoint,
    issuer,
    client: clientAuth(r, secret),
    scope: r.stringList('scope').join(' ') || undefined,
    audience: r.string('audience'),
    resource: r.url('resource'),
    extraParams,
    timeoutMs: r.number('timeout_ms', 10_000, { min: 100, max: 120_000, integer: true }),
  };
}

export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
