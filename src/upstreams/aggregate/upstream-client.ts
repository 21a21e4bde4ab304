// One MCP upstream as Deputy's own endpoints reach it (/mcp, and /mcp/<name> when it translates between
// eras): its era decided once, then every call goes to the handshake-era client (McpMember: a session
// per principal) or the 2026-era one (ModernMember: stateless). Shared by /mcp and /mcp/<name>.
import { describeNetworkError, isTimeout } from '../../client/fetch-json.ts';
import type { McpUpstreamConfig } from '../../config/schema.ts';
import { credentialFailure, mustPropagate, type CredentialProvider } from '../../outbound/provider.ts';
import type { UpstreamLink } from '../link.ts';
import { MemberUnavailable, type AggregateMember, type Discovery, type MemberContext } from './member.ts';
import { ModernMember } from './modern-member.ts';

type Message = Record<string, unknown>;

/**
 * One MCP upstream as /mcp and the translations see it: its era decided once (`protocol`, or probed
 * with server/discover), then every call goes to the handshake-era client (a session per principal)
 * or the 2026-era one (stateless).
 */
export class UpstreamClient implements AggregateMember {
  readonly name: string;
  readonly credentialMode;
  readonly timeoutMs: number;
  readonly #cfg: McpUpstreamConfig;
  readonly #credentials: CredentialProvider;
  readonly #link: UpstreamLink;
  readonly #handshake: AggregateMember;
  readonly #modern: ModernMember;
  /** The first page of the last tools/list answer and the capabilities, shown to people not yet connected (user_oauth). */
  #lastTools?: Message;
  #lastCapabilities?: Record<string, unknown>;

  /** Tools known without listing (the pinned definitions), for people not yet connected after a restart. */
  readonly #knownTools?: () => Promise<Message[]>;

  constructor(cfg: McpUpstreamConfig, credentials: CredentialProvider, link: UpstreamLink, handshake: AggregateMember, knownTools?: () => Promise<Message[]>) {
    this.#knownTools = knownTools;
    this.name = cfg.name;
    this.credentialMode = credentials.mode;
    this.timeoutMs = cfg.timeoutMs;
    this.#cfg = cfg;
    this.#credentials = credentials;
    this.#link = link;
    this.#handshake = handshake;
    this.#modern = new ModernMember(cfg, credentials, link);
  }

  /** The upstream's era (probing it on first use when `protocol: auto`). */
  async era(ctx: Pick<MemberContext, 'principal' | 'bearer'>): Promise<'handshake' | 'modern'> {
    const known = this.#link.knownEra(this.#cfg.protocol);
    if (known) return known; // no credential needed to ask again
    let credential;
    try {
      credential = await this.#credentials.get(ctx);
    } catch (error) {
      if (mustPropagate(error)) throw error; // the person's connect link, for the endpoint to present
      throw new MemberUnavailable(this.name, credentialFailure(this.name, error));
    }
    try {
      return await this.#link.probeEra(credential.headers);
    } catch (error) {
      const reason = describeNetworkError(error);
      if (isTimeout(error)) throw new MemberUnavailable(this.name, `upstream '${this.name}' did not answer within ${this.timeoutMs} ms`, true);
      throw new MemberUnavailable(this.name, `upstream '${this.name}' could not be asked for its protocol era (${reason})`);
    }
  }

  /** A 2026-capable upstream is reached statelessly; a handshake-only one over a session per principal. */
  async #client(ctx: MemberContext): Promise<AggregateMember> {
    if (this.#link.handshakeRefused) return this.#modern;
    return (await this.era(ctx)) === 'modern' ? this.#modern : this.#handshake;
  }

  async capabilities(ctx: MemberContext): Promise<Record<string, unknown>> {
    try {
      this.#lastCapabilities = await (await this.#client(ctx)).capabilities(ctx);
      return this.#lastCapabilities;
    } catch (error) {
      // A person who has not connected their account yet still sees what the upstream offers.
      if (mustPropagate(error)) return this.#lastCapabilities ?? { tools: {} };
      throw error;
    }
  }

  discovery(): Discovery | undefined {
    const modern = this.#link.handshakeRefused || this.#link.knownEra(this.#cfg.protocol) === 'modern';
    return modern ? this.#modern.discovery() : undefined;
  }

  async request(method: string, params: Record<string, unknown>, ctx: MemberContext): Promise<Message> {
    try {
      const result = await (await this.#client(ctx)).request(method, params, ctx);
      if (method === 'tools/list' && params.cursor === undefined) this.#lastTools = { tools: result.tools }; // the first page, without its cursor
      return result;
    } catch (error) {
      if (error instanceof MemberUnavailable) this.#link.forgetEra();
      // user_oauth: before connecting, a person is shown the tools as last listed for anyone here (a
      // tool list is the upstream's, not the user's), else their pinned definitions (any replica,
      // any restart), else none; calling one asks them to connect.
      if (mustPropagate(error) && method === 'tools/list') {
        if (params.cursor !== undefined) return { tools: [] };
        return this.#lastTools ?? { tools: (await this.#knownTools?.().catch(() => [])) ?? [] };
      }
      throw error;
    }
  }

  listen(listener: Parameters<NonNullable<AggregateMember['listen']>>[0]): void {
    this.#handshake.listen?.(listener);
  }

  release(key: string): void {
    this.#handshake.release?.(key);
  }

  async close(): Promise<void> {
    await this.#handshake.close();
  }
}
