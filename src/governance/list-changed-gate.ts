// Pinning (enforce) meets an upstream's notification stream relayed byte for byte on /mcp/<upstream>:
// each tools or prompts list_changed is held back until Deputy has listed again as that principal and
// reviewed the pins (ToolPins.listChanged), and goes on only if what the principal is served changed.
// A standalone (GET) stream also hears of changes approved while it is open.
import { notificationMethod, sseEventTransform, type BodyTransform } from '../client/body-transform.ts';
import { log } from '../log.ts';
import { GATED_LIST_CHANGED, LIST_CHANGED_OF, LIST_OF, type PinKind, type ToolPins } from './pins.ts';

type Item = Record<string, unknown>;

/** The items of a list answer when it is the whole list; undefined when more pages follow (what changed may be there). */
export function wholeList(kind: PinKind, page: Record<string, unknown>): Item[] | undefined {
  const items = page[LIST_OF[kind].key];
  return Array.isArray(items) && page.nextCursor === undefined ? (items as Item[]) : undefined;
}

export interface ListChangedGate {
  transform: BodyTransform;
  /** How many notifications were held back for good. */
  held(): number;
}

/** A notification is small: an event longer than this is a result, passed through without holding it. */
const NOTIFICATION_MAX_CHARS = 4096;
/** How long the end of a response waits for the decisions on notifications it carried. */
const SETTLE_MS = 5000;

export function listChangedGate(opts: {
  pins: ToolPins;
  upstream: string;
  /** Whose served lists are compared: the Deputy session when there is one, else the principal. */
  servedTo: string;
  /** The upstream's current list of this kind as the principal sees it (wholeList). */
  list(kind: PinKind): Promise<Item[] | undefined>;
  /** For standalone streams: registers the announcement of approved changes on this stream. */
  approvals?(tell: (kind: PinKind) => void): void;
}): ListChangedGate {
  let emit: ((chunk: Buffer) => void) | undefined;
  let held = 0;
  // Events in order behind an undecided notification: the stream keeps the upstream's order.
  const queue: { text: string; relay?: Promise<boolean> }[] = [];
  let draining: Promise<void> | undefined;
  const send = (text: string) => emit?.(Buffer.from(`${text}\n\n`));
  const drain = async () => {
    while (queue.length) {
      const head = queue[0]!;
      if (head.relay && !(await head.relay)) held++;
      else send(head.text);
      queue.shift();
    }
    draining = undefined;
  };
  const decide = (method: string, kind: PinKind): Promise<boolean> =>
    opts.pins.listChanged(opts.upstream, kind, opts.servedTo, () => opts.list(kind)).then((go) => {
      log.debug('upstream list_changed', { upstream: opts.upstream, method, relayed: go });
      return go;
    }, () => true); // the check could not be made: it is only a hint, so it goes on
  const transform = sseEventTransform((event) => {
    const method = event.includes('list_changed') ? notificationMethod(event) : undefined;
    const kind = method !== undefined ? GATED_LIST_CHANGED[method] : undefined;
    if (!kind && queue.length === 0) return event;
    queue.push({ text: event, ...(kind ? { relay: decide(method!, kind) } : {}) });
    draining ??= drain();
    return undefined; // sent in order once what is ahead of it is decided
  }, {
    passOver: NOTIFICATION_MAX_CHARS,
    attach: (sendRaw) => {
      emit = sendRaw;
      opts.approvals?.((kind) => {
        const text = `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: LIST_CHANGED_OF[kind] })}`;
        if (queue.length) queue.push({ text });
        else send(text);
      });
    },
    // The body ends once what it carried is decided; past SETTLE_MS the rest goes as it is (hints, fail open).
    settle: async () => {
      if (!draining) return;
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([draining.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), SETTLE_MS).unref()))]);
      clearTimeout(timer);
      if (late) for (const item of queue.splice(0)) send(item.text);
    },
  });
  return { transform, held: () => held };
}
