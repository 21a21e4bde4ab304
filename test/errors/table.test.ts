// The one table: every refusal class maps through its stable code to the HTTP status, the JSON-RPC
// code and the audit outcome, so answers and audit rows cannot drift apart per call site.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OverloadedError } from '../../src/admission/concurrency.ts';
import { DeputyError, ERRORS } from '../../src/errors.ts';
import { insufficientScope, invalidRequest, invalidToken, missingToken, verifierUnavailable } from '../../src/inbound/errors.ts';
import { CredentialError } from '../../src/outbound/provider.ts';
import { PolicyDenied } from '../../src/policy/enforce.ts';
import { MemberUnavailable } from '../../src/upstreams/aggregate/member.ts';

test('each refusal class carries a code whose row gives its status, JSON-RPC code and outcome', () => {
  const cases: [DeputyError, keyof typeof ERRORS, number, number, string][] = [
    [missingToken(), 'ERR_TOKEN_MISSING', 401, -32600, 'unauthenticated'],
    [invalidToken('bad signature'), 'ERR_TOKEN_INVALID', 401, -32600, 'unauthenticated'],
    [invalidRequest('two Authorization headers'), 'ERR_AUTH_REQUEST_INVALID', 400, -32600, 'rejected'],
    [insufficientScope(['notes:write']), 'ERR_INSUFFICIENT_SCOPE', 403, -32012, 'denied'],
    [verifierUnavailable('JWKS down'), 'ERR_VERIFIER_UNAVAILABLE', 503, -32603, 'error'],
    [new PolicyDenied("tool 'rm' is not allowed"), 'ERR_FORBIDDEN', 200, -32012, 'denied'],
    [new CredentialError('notes', 'refused'), 'ERR_CREDENTIAL_UNAVAILABLE', 502, -32011, 'credential_error'],
    [new MemberUnavailable('notes', 'down'), 'ERR_UPSTREAM_UNAVAILABLE', 502, -32010, 'upstream_error'],
    [new MemberUnavailable('notes', 'slow', true), 'ERR_UPSTREAM_TIMEOUT', 504, -32010, 'upstream_error'],
    [new OverloadedError('gateway', 'busy', 1), 'ERR_OVERLOADED', 503, -32013, 'overloaded'],
  ];
  for (const [error, code, http, rpc, outcome] of cases) {
    assert.ok(error instanceof DeputyError, `${error.name} is a DeputyError`);
    assert.deepEqual([error.code, error.status, error.rpcCode, error.outcome], [code, http, rpc, outcome], error.name);
    assert.deepEqual(error.toJsonRpc(), { code: rpc, message: error.message });
  }
});

test('auth refusals keep their RFC 6750 error code and scopes; an unavailable verifier says when to retry', () => {
  assert.equal(missingToken().error, undefined);
  assert.equal(invalidToken('x').error, 'invalid_token');
  assert.equal(invalidRequest('x').error, 'invalid_request');
  const scope = insufficientScope(['a', 'b']);
  assert.deepEqual([scope.error, scope.scopes, scope.message], ['insufficient_scope', ['a', 'b'], 'this request needs the scopes a b']);
  assert.equal(verifierUnavailable('down').headers['retry-after'], '5');
  assert.equal(new PolicyDenied('x').name, 'PolicyDenied');
});

test('the table is complete: every code has an HTTP status, a JSON-RPC code and an outcome', () => {
  for (const [code, row] of Object.entries(ERRORS)) {
    assert.ok(row.http >= 200 && row.http < 600, code);
    assert.ok(Number.isInteger(row.rpc) && row.rpc < 0, code);
    assert.ok(row.outcome.length > 0, code);
  }
});
