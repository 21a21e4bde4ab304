// Refusals Deputy answers with carry a stable `code` (as jose's errors do), and this one table maps
// each code to the HTTP status, the JSON-RPC error code and the audit outcome: a refusal reads the
// same on every route, in every answer and in every audit row, and tests can match the code instead
// of a message. Messages are for people; codes are the contract.
import type { Outcome } from './audit/event.ts';

export const ERRORS = {
  /** A shared concurrency limit (gateway, upstream, streams of an upstream, the session table). */
  ERR_OVERLOADED: { http: 503, rpc: -32013, outcome: 'overloaded' },
  /** The caller's own limit (GET streams per principal). */
  ERR_STREAM_LIMIT: { http: 429, rpc: -32013, outcome: 'throttled' },
  ERR_QUOTA_EXCEEDED: { http: 429, rpc: -32013, outcome: 'throttled' },
  /** The quota store is unreachable and the quota fails closed. */
  ERR_QUOTA_STORE_DOWN: { http: 503, rpc: -32013, outcome: 'throttled' },
  /** MCP 2026-07-28: a mirrored header disagrees with the body, is missing or malformed. */
  ERR_HEADER_MISMATCH: { http: 400, rpc: -32020, outcome: 'rejected' },
  ERR_UNSUPPORTED_VERSION: { http: 400, rpc: -32022, outcome: 'rejected' },
  /** A handshake-era MCP-Protocol-Version Deputy does not speak. */
  ERR_UNSUPPORTED_HANDSHAKE_VERSION: { http: 400, rpc: -32600, outcome: 'rejected' },
  /** Missing or malformed 2026 `_meta`. */
  ERR_INVALID_PARAMS: { http: 400, rpc: -32602, outcome: 'rejected' },
  ERR_METHOD_NOT_ALLOWED: { http: 405, rpc: -32000, outcome: 'rejected' },
  ERR_METHOD_NOT_FOUND: { http: 404, rpc: -32601, outcome: 'rejected' },

  // Inbound authentication (RFC 6750). These are answered as OAuth error bodies with a challenge,
  // not JSON-RPC; the rpc code is what an in-band copy would carry.
  ERR_TOKEN_MISSING: { http: 401, rpc: -32600, outcome: 'unauthenticated' },
  ERR_TOKEN_INVALID: { http: 401, rpc: -32600, outcome: 'unauthenticated' },
  ERR_AUTH_REQUEST_INVALID: { http: 400, rpc: -32600, outcome: 'rejected' },
  ERR_INSUFFICIENT_SCOPE: { http: 403, rpc: -32012, outcome: 'denied' },
  /** The token could not be checked now (JWKS or introspection down). */
  ERR_VERIFIER_UNAVAILABLE: { http: 503, rpc: -32603, outcome: 'error' },

  /**
   * Policy refuses a tool or an upstream, and no scope would help (otherwise ERR_INSUFFICIENT_SCOPE).
   * Answered in-band (HTTP 200): a 403 would send clients into re-authorization no token can fix.
   */
  ERR_FORBIDDEN: { http: 200, rpc: -32012, outcome: 'denied' },
  /** Pinning (enforce): the tool's definition changed since it was approved; an operator must review it. */
  ERR_DEFINITION_CHANGED: { http: 200, rpc: -32014, outcome: 'denied' },
  ERR_SESSION_NOT_FOUND: { http: 404, rpc: -32001, outcome: 'rejected' },
  /** MCP 2026 requestState not issued by Deputy for this principal and upstream, altered or expired. */
  ERR_INVALID_REQUEST_STATE: { http: 400, rpc: -32602, outcome: 'rejected' },

  // The upstream side.
  /**
   * user_oauth: the user has no connected account (or its refresh definitively failed). Answered
   * in-band: MCP's URLElicitationRequired (-32042) with the connect URL, or its 2026 and no-URL forms.
   */
  ERR_CONSENT_REQUIRED: { http: 200, rpc: -32042, outcome: 'consent_required' },
  ERR_CREDENTIAL_UNAVAILABLE: { http: 502, rpc: -32011, outcome: 'credential_error' },
  /** The upstream answered 401/403 to Deputy's own credential (not the client's problem: a gateway error). */
  ERR_UPSTREAM_REFUSED_CREDENTIAL: { http: 502, rpc: -32011, outcome: 'upstream_error' },
  ERR_UPSTREAM_UNAVAILABLE: { http: 502, rpc: -32010, outcome: 'upstream_error' },
  ERR_UPSTREAM_TIMEOUT: { http: 504, rpc: -32010, outcome: 'upstream_error' },
} as const satisfies Record<string, { http: number; rpc: number; outcome: Outcome }>;

export type ErrorCode = keyof typeof ERRORS;

export class DeputyError extends Error {
  readonly code: ErrorCode;
  /** JSON-RPC `error.data` (e.g. the supported versions for ERR_UNSUPPORTED_VERSION). */
  readonly data?: unknown;
  /** Extra response headers (Allow, Retry-After). */
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, message: string, opts: { data?: unknown; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.data = opts.data;
    this.headers = opts.headers ?? {};
  }

  get status(): number {
    return ERRORS[this.code].http;
  }

  get rpcCode(): number {
    return ERRORS[this.code].rpc;
  }

  get outcome(): Outcome {
    return ERRORS[this.code].outcome;
  }

  /** The JSON-RPC error object, for an answer or an in-band error inside a stream. */
  toJsonRpc(): { code: number; message: string; data?: unknown } {
    return { code: this.rpcCode, message: this.message, ...(this.data === undefined ? {} : { data: this.data }) };
  }
}
