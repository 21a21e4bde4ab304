// Passthrough is the one mode where the client's token reaches the upstream: these tests assert the
// opposite of the canary tests, plus the loud parts (config refusal, warnings, audit).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/errors.ts';
import { parseConfig } from '../../src/config/schema.ts';
import { logLines, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';
import { post } from './helpers.ts';

const parse = (credentials: unknown) => parseConfig({
  auth: { issuers: [{ issuer: 'https://idp.example.com' }] },
  upstreams: [{ name: 'legacy', type: 'mcp', url: 'http://127.0.0.1:9001/mcp', credentials }],
}, { baseDir: process.cwd(), env: {} });

test('passthrough without acknowledge_spec_violation is refused, explaining why and naming the compliant modes', () => {
  for (const credentials of [{ type: 'passthrough' }, { type: 'passthrough', acknowledge_spec_violation: 'yes' }]) {
    assert.throws(() => parse(credentials), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const issue = error.issues.find((i) => i.path === 'upstreams[0].credentials.acknowledge_spec_violation');
      assert.ok(issue, JSON.stringify(error.issues));
      assert.match(issue.message, /MCP specification forbids/);
      assert.match(issue.message, /confused deputy/);
      for (const mode of ['token_exchange', 'client_credentials', 'static']) assert.ok(issue.message.includes(mode), `names ${mode}`);
      return true;
    });
  }
});

test('passthrough with acknowledgement: the upstream gets the client token, a warning at start-up, mode passthrough in every audit event', async () => {
  const config = parse({ type: 'passthrough', acknowledge_spec_violation: true });
  assert.ok(config.warnings.some((w) => w.path.endsWith('credentials.type') && /token passthrough/.test(w.message) && /require_audience/.test(w.message)));

  const as = await startAs();
  const upstream = await startUpstream({ stateless: true });
  const logStart = logLines.length;
  const deputy = await startDeputy(as, { upstreams: [{ name: 'legacy', type: 'mcp', url: upstream.url, credentials: { type: 'passthrough', acknowledge_spec_violation: true } }] });
  assert.ok(logLines.slice(logStart).some((l) => /"level":"warn"/.test(l) && /uses token passthrough/.test(l)), 'warned at start-up');
  const endpoint = `${deputy.url}/mcp/legacy`;
  const token = await userToken(as, endpoint);
  assert.equal((await post(endpoint, token)).status, 200);
  assert.equal((await post(endpoint, token, 2)).status, 200);
  // The opposite of every other mode: the client's own token is what the upstream sees.
  assert.equal(upstream.requests.length, 2);
  for (const rec of upstream.requests) assert.equal(rec.headers.authorization, `Bearer ${token}`);
  // …but still never in logs or audit.
  assert.ok(!logLines.join('\n').includes(token));
  await deputy.audit.flush();
  const events = await deputy.audit.query({});
  assert.equal(events.length, 2);
  assert.ok(events.every((e) => e.credentialMode === 'passthrough' && e.outcome === 'ok'));
  assert.ok(!JSON.stringify(events).includes(token));
});

test('passthrough require_audience: only tokens whose audience includes it are forwarded', async () => {
  const as = await startAs();
  const upstream = await startUpstream({ stateless: true });
  const deputy = await startDeputy(as, {
    upstreams: [{ name: 'strict', type: 'mcp', url: upstream.url, credentials: { type: 'passthrough', acknowledge_spec_violation: true, require_audience: 'https://legacy.internal' } }],
  });
  const strict = `${deputy.url}/mcp/strict`;
  const token = await userToken(as, strict);
  const refused = await post(strict, token);
  assert.equal(refused.status, 502);
  const { error } = JSON.parse(refused.body);
  assert.equal(error.code, -32011);
  assert.equal(error.message, "could not obtain a credential for upstream 'strict': passthrough requires the token's audience to include https://legacy.internal; request a token for that audience");
  assert.ok(!refused.body.includes(token));
  assert.equal(upstream.requests.length, 0, 'nothing forwarded');
  await deputy.audit.flush();
  assert.ok((await deputy.audit.query({})).some((e) => e.outcome === 'credential_error' && e.credentialMode === 'passthrough' && e.upstream === 'strict'));
});

test('passthrough require_audience: a token carrying the required audience is forwarded', async () => {
  const as = await startAs();
  const upstream = await startUpstream({ stateless: true });
  // The required audience is Deputy's own endpoint URI, known only after start: use a fixed public_url.
  const publicUrl = 'http://127.0.0.1:1';
  const deputy = await startDeputy(as, {
    server: { public_url: publicUrl },
    upstreams: [{ name: 'legacy', type: 'mcp', url: upstream.url, credentials: { type: 'passthrough', acknowledge_spec_violation: true, require_audience: `${publicUrl}/mcp/legacy` } }],
  });
  const token = await userToken(as, `${publicUrl}/mcp/legacy`);
  const r = await fetch(`${deputy.url}/mcp/legacy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, origin: publicUrl },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } }),
  });
  assert.equal(r.status, 200, await r.text());
  assert.equal(upstream.requests.at(-1)?.headers.authorization, `Bearer ${token}`);
});
