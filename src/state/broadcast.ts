// Events every replica must hear, over Redis pub/sub: a person who finished connecting an account
// through one replica has MCP sessions on another, which must tell them (notifications/elicitation/
// complete). Messages are sealed with the state cipher, as everything Deputy keeps in Redis. Pub/sub
// is fire-and-forget: when Redis is down the publisher says so and the caller delivers locally.
import type { Redis } from 'ioredis';
import { log } from '../log.ts';
import type { SharedState } from './redis.ts';

const CHANNEL = 'deputy:events';
const AAD = 'deputy broadcast';

export class Broadcast {
  readonly #state: SharedState;
  readonly #sub: Redis;
  readonly #handlers = new Map<string, Set<(body: unknown) => void>>();
  #subscribed = false;

  constructor(state: SharedState) {
    this.#state = state;
    // A connection in subscriber mode can do nothing else: a second one, same settings.
    this.#sub = state.redis.duplicate();
    this.#sub.on('error', () => {}); // the shared state logs outages once; this connection reconnects with it
    // Subscribed on every (re)connection: Redis may come up after Deputy, or restart.
    const subscribe = () => this.#sub.subscribe(CHANNEL).then(() => (this.#subscribed = true), (error: Error) => log.warn('shared state: could not subscribe to replica events', { error: error.message }));
    this.#sub.on('ready', () => void subscribe());
    this.#sub.on('close', () => (this.#subscribed = false));
    this.#sub.on('message', (_channel: string, data: string) => {
      const plain = this.#state.cipher.decrypt(data, AAD);
      if (plain === undefined) return; // another deployment's, or a key this replica does not have
      let message: { topic?: unknown; body?: unknown };
      try {
        message = JSON.parse(plain) as typeof message;
      } catch {
        return;
      }
      for (const h of typeof message.topic === 'string' ? (this.#handlers.get(message.topic) ?? []) : []) {
        try {
          h(message.body);
        } catch (error) {
          log.warn('a replica event handler failed', { topic: message.topic, error: (error as Error).message });
        }
      }
    });
  }

  /**
   * Sends to every replica. True when this replica will hear it too (it is subscribed and Redis took
   * the message); false means: deliver locally (other replicas may still have heard it).
   */
  async publish(topic: string, body: unknown): Promise<boolean> {
    const sealed = this.#state.cipher.encrypt(JSON.stringify({ topic, body }), AAD);
    const receivers = await this.#state.run((r) => r.publish(CHANNEL, sealed));
    return this.#subscribed && receivers !== undefined && receivers > 0;
  }

  on(topic: string, handler: (body: unknown) => void): () => void {
    let set = this.#handlers.get(topic);
    if (!set) this.#handlers.set(topic, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  close(): void {
    this.#sub.disconnect();
  }
}
