// Deputy's id_jag mode end to end: the enterprise IdP (which issued the user's MCP token) mints an
// ID-JAG for the upstream's AS, that AS redeems it for a token for the tracker, and the tracker sees
// the user, with no consent screen. Two oidc-provider instances and the SDK tracker; the result is
// cached per user, and the client's token only ever reaches the IdP that issued it.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ID_JAG_GRANTS, ID_JAG_REQUESTS, JWT_BEARER_GRANT, startAuthorizationServer, TOKEN_EXCHANGE_GRANT, type AuthorizationServer } from '../../src/demo/authorization-server.ts';
import { startTracker, type Tracker } from '../../src/demo/tracker.ts';
import type { Gateway } from '../../src/gateway.ts';
import { onCleanup } from '../support/cleanup.ts';
import { connectClient, logLines, startAs, startDeputy, TEST_CLIENT, userToken } from '../support/stack.ts';

let idp: AuthorizationServer;
let searchAs: AuthorizationServer;
let tracker: Tracker;
let deputy: Gateway;
const SECRET = 'deputy-client-secret-for-id-jag';

before(async () => {
  idp = await startAs({ idJag: {}, clients: [TEST_CLIENT, { client_id: 'deputy', client_secret: SECRET, grant_types: [TOKEN_EXCHANGE_GRANT], token_endpoint_auth_method: 'client_secret_basic' }] });
  searchAs = await startAuthorizationServer({
    clients: [{ client_id: 'deputy', client_secret: SECRET, grant_types: [JWT_BEARER_GRANT], token_endpoint_auth_method: 'client_secret_basic' }],
    trustIdJagFrom: [{ issuer: idp.issuer }],
    scopes: ['search'],
    defaultResource: (r) => (r === tracker?.url ? { scope: 'search', format: 'jwt', ttlSeconds: 600 } : undefined),
  });
  onCleanup(() => searchAs.close());
  tracker = await startTracker({ issuer: searchAs.issuer });
  onCleanup(() => tracker.close());
  deputy = await startDeputy(idp, {
    upstreams: [{
      name: 'search', type: 'mcp', url: tracker.url, protocol: '2025-11-25',
      credentials: { type: 'id_jag', idp_token_endpoint: `${idp.issuer}/token`, client_id: 'deputy', client_secret: { env: 'DEPUTY_SECRET' }, audience: searchAs.issuer, token_endpoint: `${searchAs.issuer}/token`, resource: tracker.url, scope: 'search' },
    }],
    env: { DEPUTY_SECRET: SECRET },
  });
});

test('id_jag: the upstream sees the user with no consent screen; both grants once per user, then cached; the client token stays at the IdP', async () => {
  const token = await userToken(idp, `${deputy.url}/mcp/search`, { sub: 'alice' });
  const client = await connectClient(`${deputy.url}/mcp/search`, token);
  onCleanup(() => client.close().catch(() => {}));
  for (let i = 0; i < 3; i++) {
    const r = await client.callTool({ name: 'whoami', arguments: {} });
    assert.equal((r.content as { text: string }[])[0]!.text, 'alice');
  }
  assert.equal(idp.tokenRequests.get(ID_JAG_REQUESTS), 1, 'one ID-JAG from the IdP');
  assert.equal(searchAs.tokenRequests.get(ID_JAG_GRANTS), 1, 'one jwt-bearer grant at the upstream AS');
  const bob = await connectClient(`${deputy.url}/mcp/search`, await userToken(idp, `${deputy.url}/mcp/search`, { sub: 'bob' }));
  onCleanup(() => bob.close().catch(() => {}));
  assert.equal(((await bob.callTool({ name: 'whoami', arguments: {} })).content as { text: string }[])[0]!.text, 'bob');
  assert.equal(idp.tokenRequests.get(ID_JAG_REQUESTS), 2);
  assert.ok(!tracker.requests.some((q) => JSON.stringify(q).includes(token)), 'the client token reached the upstream');
  assert.ok(!logLines.some((l) => l.includes(token)));
  await deputy.audit.flush();
  assert.ok(!JSON.stringify(await deputy.audit.query({ limit: 500 })).includes(token));
});
