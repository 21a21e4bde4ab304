// The small per-upstream interface the aggregator is built on. An MCP upstream (a client session per
// principal) and a Toolset (OpenAPI operations, served by Deputy itself) both satisfy it, so /mcp can
// merge either kind without knowing which it is talking to.
import { DeputyError } from '../../errors.ts';
import type { CredentialMode } from '../../config/schema.ts';
import type { BearerToken, Principal } from '../../inbound/principal.ts';

export interface MemberContext {
  principal: Principal;
  bearer: BearerToken;
  requestId: string;
  signal: AbortSignal;
  /** The client's progress token, forwarded unchanged. */
  progressToken?: string | number;
  /** Notifications the upstream sends while handling this request (progress, log messages). */
  onNotification?(method: string, params: Record<string, unknown>): void;
  /** Requests the upstream sends to the client while handling this one (sampling, elicitation, roots). */
  onRequest?(method: string, params: Record<string, unknown>): Promise<unknown>;
}

/**
 * Notifications an upstream sends outside any request (list_changed, resources/updated), per
 * principal; `caller` lets the listener ask the upstream again as that principal.
 */
export type ServerNotificationListener = (principalKey: string, method: string, params: Record<string, unknown>, caller?: Pick<MemberContext, 'principal' | 'bearer'>) => void;

export interface Discovery {
  supportedVersions: string[];
  ttlMs?: number;
}

export interface AggregateMember {
  readonly name: string;
  readonly credentialMode: CredentialMode;
  /** Bound on listing and on the wait for an answer to start. */
  readonly timeoutMs: number;
  /** The upstream's capabilities as seen by this principal (may open its upstream session). */
  capabilities(ctx: MemberContext): Promise<Record<string, unknown>>;
  /**
   * One MCP request with the upstream's own names. Resolves to the result; a JSON-RPC error from the
   * upstream rejects with a JsonRpcError, an unreachable or failing upstream with a MemberUnavailable.
   */
  request(method: string, params: Record<string, unknown>, ctx: MemberContext): Promise<Record<string, unknown>>;
  /**
   * MCP 2026-07-28 upstreams: what their last server/discover said (versions, how long it holds), once
   * capabilities() has asked. Undefined for a handshake-era upstream, which Deputy translates for.
   */
  discovery?(): Discovery | undefined;
  /** Register the listener for server-initiated notifications. */
  listen?(listener: ServerNotificationListener): void;
  /** The principal has no Deputy session left: close its upstream session. */
  release?(principalKey: string): void;
  close(): Promise<void>;
}

/** The upstream could not be reached or answered outside the protocol. The message is safe for clients. */
export class MemberUnavailable extends DeputyError {
  readonly upstream: string;
  constructor(upstream: string, message: string, timedOut = false) {
    super(timedOut ? 'ERR_UPSTREAM_TIMEOUT' : 'ERR_UPSTREAM_UNAVAILABLE', message);
    this.upstream = upstream;
  }

  get timedOut(): boolean {
    return this.code === 'ERR_UPSTREAM_TIMEOUT';
  }
}
