// Rewrites of a relayed upstream body, chunk by chunk, for the few answers Deputy changes on their
// way through (sealing MCP requestState, holding back list_changed under pinning). An SSE body is
// rewritten event by event: a transform only ever emits whole events, so something Deputy adds of its
// own (`attach`) always lands between two events.
import { StringDecoder } from 'node:string_decoder';

/** A rewrite of a relayed body: `push` returns what can be sent now, `end` the rest. */
export interface BodyTransform {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
  /** Given the way to send bytes of Deputy's own into the body (between two events), once the body flows. */
  attach?(emit: (chunk: Buffer) => void): void;
  /** Resolves when what the rewrite still has to decide is decided; the body ends after it. */
  settle?(): Promise<void>;
}

export interface SseTransformOptions {
  attach?: (emit: (chunk: Buffer) => void) => void;
  settle?: () => Promise<void>;
  /**
   * An event longer than this is relayed as it arrives instead of being held whole: `map` never sees
   * it. For rewrites that only care about small events (notifications), so a large or endless event
   * costs neither memory nor time.
   */
  passOver?: number;
}

/**
 * An SSE body rewritten event by event. `map` gets each event's text (lines joined by LF, without the
 * blank line that ends it) and returns its replacement, or undefined to drop the event. Lines may end
 * in CRLF, LF or CR (all become LF); a chunk may end inside a character or between CR and LF. Each
 * byte is searched once for the end of its event. Bytes of Deputy's own (`attach`) wait for the end
 * of an event that is being passed through.
 */
export function sseEventTransform(map: (event: string) => string | undefined, opts: SseTransformOptions = {}): BodyTransform {
  const decoder = new StringDecoder('utf8');
  let held = '';
  /** held[0, searched) holds no blank line. */
  let searched = 0;
  /** Inside an event longer than passOver, relayed as it arrives. */
  let passing = false;
  let waiting: Buffer[] = [];
  /** A trailing CR, which may be half of a CRLF split across chunks. */
  let cr = '';
  const events = (text: string, last: boolean): Buffer => {
    text = cr + text;
    cr = !last && text.endsWith('\r') ? '\r' : '';
    held += (cr ? text.slice(0, -1) : text).replace(/\r\n?/g, '\n');
    let out = '';
    for (let end = held.indexOf('\n\n', Math.max(0, searched - 1)); end !== -1; end = held.indexOf('\n\n')) {
      const event = held.slice(0, end);
      if (passing) {
        out += `${event}\n\n`;
        passing = false;
        for (const w of waiting) out += w.toString('utf8');
        waiting = [];
      } else {
        const mapped = map(event);
        if (mapped !== undefined) out += `${mapped}\n\n`;
      }
      held = held.slice(end + 2);
    }
    searched = held.length;
    if (opts.passOver !== undefined && held.length > opts.passOver) {
      // Relay what is held, except a final LF that may be half of the blank line ending the event.
      const keep = held.endsWith('\n') ? 1 : 0;
      out += held.slice(0, held.length - keep);
      held = held.slice(held.length - keep);
      searched = held.length;
      passing = true;
    }
    if (last && held) out += passing ? held : (map(held) ?? ''); // an event the upstream did not terminate
    if (last) {
      held = '';
      for (const w of waiting) out += w.toString('utf8');
      waiting = [];
    }
    return Buffer.from(out);
  };
  return {
    push: (chunk) => events(decoder.write(chunk), false),
    end: () => events(decoder.end(), true),
    ...(opts.attach ? { attach: (emit: (chunk: Buffer) => void) => opts.attach!((chunk) => (passing ? waiting.push(chunk) : emit(chunk))) } : {}),
    ...(opts.settle ? { settle: opts.settle } : {}),
  };
}

/** A JSON body rewritten whole at its end. */
export function wholeBodyTransform(map: (text: string) => string): BodyTransform {
  const decoder = new StringDecoder('utf8');
  let held = '';
  return {
    push(chunk) {
      held += decoder.write(chunk);
      return Buffer.alloc(0);
    },
    end() {
      const rest = map(held + decoder.end());
      held = '';
      return Buffer.from(rest);
    },
  };
}

/** Two rewrites, one after the other. */
export function chainTransforms(first: BodyTransform | undefined, second: BodyTransform | undefined): BodyTransform | undefined {
  if (!first || !second) return first ?? second;
  return {
    push: (chunk) => second.push(first.push(chunk)),
    end: () => Buffer.concat([second.push(first.end()), second.end()]),
    attach(emit) {
      first.attach?.(emit);
      second.attach?.(emit);
    },
    // Only when one of them decides something: a body with nothing to wait for ends at once.
    ...(first.settle || second.settle ? { settle: async () => void (await Promise.all([first.settle?.(), second.settle?.()])) } : {}),
  };
}

/** The JSON-RPC `method` of an SSE event's data, if it is a notification (no id). */
export function notificationMethod(event: string): string | undefined {
  const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
  try {
    const m = JSON.parse(data) as { method?: unknown; id?: unknown };
    return typeof m.method === 'string' && m.id === undefined ? m.method : undefined;
  } catch {
    return undefined;
  }
}
