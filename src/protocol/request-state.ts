// MCP 2026-07-28 multi round-trip requests carry an opaque `requestState` from the server to the client
// and back. The spec makes it attacker-controlled input. When Deputy relays it (on /mcp/<upstream> to a
// 2026 upstream), it seals the upstream's value in an envelope bound to the principal, the upstream
// and an expiry (HMAC-SHA256), and opens it again on the retry: another principal's state, a tampered
// one or an expired one is refused before the upstream sees it. The key comes from
// state.encryption_key when set (replicas open each other's envelopes), else it is per process.
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { sseEventTransform, wholeBodyTransform, type BodyTransform } from '../client/body-transform.ts';

const PREFIX = 'dps1.';
const TTL_MS = 10 * 60_000;
/** Methods that may answer input_required (and so carry requestState). */
export const MRTR_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read']);

export class RequestStateSealer {
  readonly #key: Buffer;

  constructor(secret?: string) {
    this.#key = secret ? Buffer.from(hkdfSync('sha256', secret, 'deputy', 'mcp requestState envelope', 32)) : randomBytes(32);
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }

  seal(state: string, principalKey: string, upstream: string, now = Date.now()): string {
    const payload = Buffer.from(JSON.stringify({ s: state, p: bind(principalKey), u: upstream, e: now + TTL_MS })).toString('base64url');
    return `${PREFIX}${payload}.${this.#mac(payload)}`;
  }

  /** The upstream's state, or undefined when the envelope is not Deputy's, was altered, expired or belongs to someone else. */
  open(envelope: string, principalKey: string, upstream: string, now = Date.now()): string | undefined {
    if (!envelope.startsWith(PREFIX)) return undefined;
    const [payload, mac] = envelope.slice(PREFIX.length).split('.');
    if (!payload || !mac) return undefined;
    const want = Buffer.from(this.#mac(payload));
    const got = Buffer.from(mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    try {
      const v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { s?: unknown; p?: unknown; u?: unknown; e?: unknown };
      if (typeof v.s !== 'string' || v.p !== bind(principalKey) || v.u !== upstream || typeof v.e !== 'number' || v.e < now) return undefined;
      return v.s;
    } catch {
      return undefined;
    }
  }

  /**
   * Rewrites an upstream's answer (JSON or SSE) so every `result.requestState` it carries is sealed.
   * JSON is rewritten whole at the end; SSE event by event as each completes.
   */
  rewriter(principalKey: string, upstream: string, sse: boolean): BodyTransform {
    const sealResult = (text: string): string => {
      if (!text.includes('"requestState"')) return text;
      try {
        const m = JSON.parse(text) as { result?: { requestState?: unknown } };
        if (typeof m.result?.requestState !== 'string') return text;
        m.result.requestState = this.seal(m.result.requestState, principalKey, upstream);
        return JSON.stringify(m);
      } catch {
        return text;
      }
    };
    const sealEvent = (event: string) => event.split('\n').map((line) => (line.startsWith('data: ') ? `data: ${sealResult(line.slice(6))}` : line)).join('\n');
    return sse ? sseEventTransform(sealEvent) : wholeBodyTransform(sealResult);
  }
}

function bind(principalKey: string): string {
  return createHash('sha256').update(principalKey).digest('base64url').slice(0, 22);
}
