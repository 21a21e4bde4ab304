// Connected accounts: each person's own token for each user_oauth upstream. This is where a tool call
// gets that token (refreshed when it is about to expire) or learns that the person must connect
// first, which becomes a connect link. Refresh is where gateways break in practice, so: one refresh
// per account at a time (in this process and, through the vault's lock, across replicas), the row
// re-read under the lock before anything is sent, a compare-and-swap to store the result, the old
// refresh token kept when the server rotates none, transient failures retried and never a reason to
// drop tokens, and only a definitive invalid_grant (with no newer token written meanwhile) ending the
// connection.
import { randomBytes } from 'node:crypto';
import { systemEvent, type AuditEvent, type AuditSink } from '../audit/event.ts';
import { principalKey, type Principal } from '../inbound/principal.ts';
import { log } from '../log.ts';
import { ConsentRequiredError, CredentialError } from '../outbound/provider.ts';
import { VaultError, type AccountKey, type StoredTokens, type Vault } from '../vault/vault.ts';
import { GrantRejected, isTransient, type OAuthClient } from './oauth.ts';
import type { Sealer } from './seal.ts';
import type { Broadcast } from '../state/broadcast.ts';

/** A connect link names whom it was made for: issuer, subject, upstream, and its own id. */
export interface LinkTicket {
  i: string;
  s: string;
  u: string;
  j: string;
  /** Scopes the upstream asked for beyond the configured ones (its 403 insufficient_scope). */
  sc?: string[];
}

/** How long a connect link can be opened. */
export const LINK_TTL_MS = 10 * 60_000;
/** A token this close to its expiry is refreshed before use. */
const REFRESH_AHEAD_MS = 30_000;
/** Pauses between refresh attempts on transient failures (network, 5xx, timeouts). */
const RETRY_DELAYS_MS = [200, 1000];

const CONNECTED_TOPIC = 'account-connected';

export type ConnectedListener = (principalKey: string, upstream: string, elicitationId: string) => void;

export class ConnectedAccounts {
  readonly vault: Vault;
  readonly sealer: Sealer;
  readonly #publicUrl: string;
  readonly #clients: Map<string, OAuthClient>;
  readonly #audit: () => AuditSink;
  readonly #refreshing = new Map<string, Promise<string>>();
  readonly #listeners = new Set<ConnectedListener>();
  #broadcast?: Broadcast;

  /** Deputy's Client ID Metadata Document, served at CLIENT_METADATA_PATH when an upstream has no client_id. */
  readonly clientMetadata?: Record<string, unknown>;

  constructor(opts: { vault: Vault; sealer: Sealer; publicUrl: string; clients: Map<string, OAuthClient>; audit: () => AuditSink; clientMetadata?: Record<string, unknown> }) {
    this.vault = opts.vault;
    this.clientMetadata = opts.clientMetadata;
    this.sealer = opts.sealer;
    this.#publicUrl = opts.publicUrl;
    this.#clients = opts.clients;
    this.#audit = opts.audit;
  }

  /** The OAuth client of a user_oauth upstream. */
  client(upstream: string): OAuthClient | undefined {
    return this.#clients.get(upstream);
  }

  onConnected(listener: ConnectedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The person's access token for the upstream: stored, refreshed, or a ConsentRequiredError. */
  async token(principal: Principal, upstream: string): Promise<string> {
    const key: AccountKey = { issuer: principal.issuer, subject: principal.subject, upstream };
    const rec = await this.#read(key);
    if (!rec) throw this.consentRequired(principal, upstream, false);
    if (fresh(rec)) {
      void this.vault.touch(key).catch(() => {});
      return rec.accessToken;
    }
    if (!rec.refreshToken) {
      await this.vault.delete(key);
      throw this.consentRequired(principal, upstream, true);
    }
    const id = JSON.stringify([key.issuer, key.subject, upstream]);
    let pending = this.#refreshing.get(id);
    if (!pending) {
      pending = this.vault.withLock(key, () => this.#refresh(principal, key)).finally(() => this.#refreshing.delete(id));
      this.#refreshing.set(id, pending);
    }
    return pending;
  }

  /** The stored account; a row the vault cannot open (wrong keys, tampering) is a configuration error, never silently dropped. */
  async #read(key: AccountKey) {
    try {
      return await this.vault.get(key);
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      log.warn('a connected account could not be read from the vault', { upstream: key.upstream, code: error.code });
      throw new CredentialError(key.upstream, `the vault could not open this connected account (${error.code}); an operator must check vault.keys`);
    }
  }

  /** Under the account's lock: re-read, refresh (retrying transient failures), compare-and-swap. */
  async #refresh(principal: Principal, key: AccountKey): Promise<string> {
    const current = await this.#read(key);
    if (!current) throw this.consentRequired(principal, key.upstream, true);
    if (fresh(current)) return current.accessToken; // another replica refreshed while we waited for the lock
    const client = this.#clients.get(key.upstream)!;
    let tokens: StoredTokens | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        tokens = await client.refresh(current.refreshToken!);
        break;
      } catch (error) {
        if (error instanceof GrantRejected) {
          // A token written by someone else since we read it wins over our refusal (the rotation grace).
          const again = await this.vault.get(key);
          if (again && again.version !== current.version && fresh(again)) return again.accessToken;
          await this.vault.delete(key);
          this.#event(key, 'refresh_failed', 'credential_error', error.message);
          throw this.consentRequired(principal, key.upstream, true);
        }
        if (isTransient(error) && attempt < RETRY_DELAYS_MS.length) {
          await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
          continue;
        }
        log.warn('refreshing a connected account failed; its tokens are kept', { upstream: key.upstream, error: (error as Error).name });
        throw new CredentialError(key.upstream, 'the authorization server could not refresh the connected account just now; retry shortly');
      }
    }
    const saved = await this.vault.compareAndSwap(key, current.version, tokens);
    if (!saved) {
      const again = await this.vault.get(key);
      if (again && fresh(again)) return again.accessToken;
    }
    this.#event(key, 'refreshed', 'ok');
    return tokens.accessToken;
  }

  /**
   * The upstream refused the person's token. 401: it is no longer good (revoked, expired early), so
   * it is marked due and the caller retries once with a refreshed one (true). 403 insufficient_scope:
   * consent again, for the configured scopes and the ones the upstream named (step-up).
   */
  async refused(principal: Principal, upstream: string, token: string | undefined, status: number, challenge: string | undefined): Promise<boolean> {
    if (status === 403 && /error="?insufficient_scope/i.test(challenge ?? '')) {
      const scopes = /scope="([^"]*)"/i.exec(challenge ?? '')?.[1]?.split(' ').filter((x) => /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/.test(x)).slice(0, 20) ?? [];
      throw this.consentRequired(principal, upstream, true, scopes);
    }
    if (status !== 401 || token === undefined) return false;
    const key: AccountKey = { issuer: principal.issuer, subject: principal.subject, upstream };
    const rec = await this.#read(key);
    if (!rec) throw this.consentRequired(principal, upstream, true);
    if (rec.accessToken === token) await this.vault.compareAndSwap(key, rec.version, { ...rec, expiresAt: Date.now() - 1 });
    return true;
  }

  /** A fresh single-use connect link for this person and upstream, as the error that carries it. */
  consentRequired(principal: Principal, upstream: string, reconnect: boolean, moreScopes: string[] = []): ConsentRequiredError {
    const ticket: LinkTicket = { i: principal.issuer, s: principal.subject, u: upstream, j: randomBytes(16).toString('base64url'), ...(moreScopes.length ? { sc: moreScopes } : {}) };
    const url = `${this.#publicUrl}/connect?t=${this.sealer.seal('connect-link', ticket, LINK_TTL_MS)}`;
    return new ConsentRequiredError(upstream, url, ticket.j, reconnect);
  }

  /** The connect flow's end: store the tokens, record it, and tell the person's MCP sessions. */
  async connected(ticket: LinkTicket, tokens: StoredTokens): Promise<void> {
    const key: AccountKey = { issuer: ticket.i, subject: ticket.s, upstream: ticket.u };
    await this.vault.put(key, tokens);
    this.#event(key, 'connected', 'ok');
    const pk = principalKey({ issuer: ticket.i, subject: ticket.s } as Principal);
    // The person's MCP sessions may live on another replica: every replica hears it (Redis), else this one.
    if (this.#broadcast && (await this.#broadcast.publish(CONNECTED_TOPIC, { pk, u: ticket.u, j: ticket.j }))) return;
    this.#tell(pk, ticket.u, ticket.j);
  }

  #tell(pk: string, upstream: string, elicitationId: string): void {
    for (const l of this.#listeners) l(pk, upstream, elicitationId);
  }

  /** Hears connections completed on other replicas (state.store: Redis); returns the unsubscribe. */
  relayThrough(broadcast: Broadcast): () => void {
    this.#broadcast = broadcast;
    const stop = broadcast.on(CONNECTED_TOPIC, (body) => {
      const b = body as { pk?: unknown; u?: unknown; j?: unknown };
      if (typeof b.pk === 'string' && typeof b.u === 'string' && typeof b.j === 'string') this.#tell(b.pk, b.u, b.j);
    });
    return () => {
      stop();
      this.#broadcast = undefined;
    };
  }

  /** Disconnect: revoke at the upstream's authorization server when it offers revocation, then delete. */
  async disconnect(key: AccountKey): Promise<{ deleted: boolean; revoked: boolean }> {
    const rec = await this.vault.get(key).catch(() => undefined);
    let revoked = false;
    const client = this.#clients.get(key.upstream);
    if (rec && client) {
      try {
        revoked = await client.revoke(rec.refreshToken ?? rec.accessToken, rec.refreshToken ? 'refresh_token' : 'access_token');
      } catch (error) {
        log.warn('revoking a connected account at its authorization server failed; deleting it anyway', { upstream: key.upstream, error: (error as Error).name });
      }
    }
    const deleted = await this.vault.delete(key);
    if (deleted) this.#event(key, 'revoked', 'ok', revoked ? 'revoked at the authorization server' : 'deleted (no revocation at the authorization server)');
    return { deleted, revoked };
  }

  #event(key: AccountKey, what: 'connected' | 'refreshed' | 'refresh_failed' | 'revoked', outcome: AuditEvent['outcome'], detail?: string): void {
    this.#audit().write(systemEvent('accounts', { rpcMethod: what, issuer: key.issuer, subject: key.subject, upstream: key.upstream, credentialMode: 'user_oauth', outcome, ...(detail ? { detail } : {}) }));
  }
}

function fresh(rec: StoredTokens): boolean {
  return rec.expiresAt === undefined || rec.expiresAt - REFRESH_AHEAD_MS > Date.now();
}
