// A minimal text/event-stream reader (WHATWG "server-sent events" parsing, the parts MCP uses:
// `data`, `id`, `event`, comments and blank-line dispatch). Yields each event's data string.
export interface SseEvent {
  data: string;
  id?: string;
  event?: string;
}

export async function* readSse(body: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let id: string | undefined;
  let event: string | undefined;
  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.search(/\r\n|\r|\n/)) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (data.length) yield { data: data.join('\n'), id, event };
        data = [];
        event = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
      else if (field === 'event') event = value;
    }
  }
  if (data.length) yield { data: data.join('\n'), id, event };
}

/** Serialize events back (used when a buffered response is rewritten, e.g. a filtered tools/list). */
export function writeSse(events: SseEvent[]): string {
  return events.map((e) => `${e.event ? `event: ${e.event}\n` : ''}${e.id !== undefined ? `id: ${e.id}\n` : ''}${e.data.split('\n').map((l) => `data: ${l}`).join('\n')}\n\n`).join('');
}
