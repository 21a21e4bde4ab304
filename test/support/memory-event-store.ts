// An in-memory event store for SDK test servers (both SDK generations take this shape): every event is
// kept, so a client reconnecting with Last-Event-ID gets what it missed on that stream.
import { randomUUID } from 'node:crypto';

export class MemoryEventStore<Message = unknown> {
  readonly #events = new Map<string, { streamId: string; message: Message }>();

  async storeEvent(streamId: string, message: Message): Promise<string> {
    const id = `${streamId}_${this.#events.size}_${randomUUID().slice(0, 8)}`;
    this.#events.set(id, { streamId, message });
    return id;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: Message) => Promise<void> }): Promise<string> {
    const last = this.#events.get(lastEventId);
    if (!last) return '';
    let after = false;
    for (const [id, e] of this.#events) {
      if (id === lastEventId) after = true;
      else if (after && e.streamId === last.streamId) await send(id, e.message);
    }
    return last.streamId;
  }
}
