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

export function listChangedGate(opts: {
  pins: ToolPins;
  upstream: string;
  principalKey: string;
  /** The upstream's current list of this kind as the principal sees it (wholeList). */
  list(kind: PinKind): Promise<Item[] | undefined>;
  /** For standalone streams: registers the announcement of approved changes on this stream. */
  approvals?(tell: (kind: PinKind) => void): void;
}): ListChangedGate {
  let emit: ((chunk: Buffer) => void) | undefined;
  let held = 0;
  const decide = (method: string, kind: PinKind, event: string) => {
    const relay = () => emit?.(Buffer.from(`${event}\n\n`));
    void opts.pins.listChanged(opts.upstream, kind, opts.principalKey, () => opts.list(kind)).then((go) => {
      if (go) relay();
      else held++;
      log.debug('upstream list_changed', { upstream: opts.upstream, method, relayed: go });
    }, relay);
  };
  const transform = sseEventTransform((event) => {
    if (!event.includes('list_changed')) return event;
    const method = notificationMethod(event);
    const kind = method !== undefined ? GATED_LIST_CHANGED[method] : undefined;
    if (!method || !kind) return event;
    decide(method, kind, event);
    return undefined; // sent later, if at all
  }, (send) => {
    emit = send;
    opts.approvals?.((kind) => send(Buffer.from(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: LIST_CHANGED_OF[kind] })}\n\n`)));
  });
  return { transform, held: () => held };
}
