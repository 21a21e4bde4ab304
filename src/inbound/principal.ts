import { inspect } from 'node:util';

/** Who is calling, as established from a verified access token. Contains no token material. */
export interface Principal {
  issuer: string;
  subject: string;
  clientId?: string;
  scopes: string[];
  audience: string[];
  /** Seconds since the epoch. */
  expiresAt?: number;
  /** All claims of the token (or the introspection response), for policy conditions. */
  claims: Readonly<Record<string, unknown>>;
  tokenKind: 'jwt' | 'opaque';
}

/** Stable key identifying a principal across requests (sessions are bound to it). */
export function principalKey(p: Principal): string {
  return `${p.issuer}\u0000${p.subject}`;
}

/**
 * The client's raw bearer token. Wrapped so that it cannot end up in a log line, an error or a JSON
 * body by accident: every string conversion yields `[redacted]`. Only `reveal()` returns the value,
 * and only the token-exchange and explicit passthrough modes call it.
 */
export class BearerToken {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'BearerToken [redacted]';
  }
}
