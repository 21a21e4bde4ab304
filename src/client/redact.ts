// Removes known secret values from bytes relayed to a client: the credential Deputy sent an
// upstream must not come back to the client if the upstream echoes it (in an error, a debug tool, a
// "whoami"). Deputy knows the exact values it sent, so this is an exact match, not a guess. Each
// occurrence is overwritten with `*` of the same length: Content-Length stays right and JSON stays
// valid. Streaming-safe: a value split across chunks is still found, and since header values never
// contain a line break, only the bytes after the last `\n` are held back (SSE events flow at once).

const MIN_SECRET_LENGTH = 8;

/** The byte forms of secrets worth redacting: each value, and its bare form after an auth scheme. */
export function secretPatterns(values: Iterable<string | undefined>): Buffer[] {
  const forms = new Set<string>();
  for (const v of values) {
    if (!v) continue;
    forms.add(v);
    const bare = v.replace(/^[A-Za-z][\w-]*\s+/, ''); // "Bearer abc…" → "abc…"
    if (bare !== v) forms.add(bare);
  }
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length).map((f) => Buffer.from(f));
}

/**
 * secretPatterns, remembered for the last set of values: a static credential is the same on every
 * request, so the per-request cost is one string join, not new buffers and a sort.
 */
export class SecretPatternCache {
  #key?: string;
  #patterns: Buffer[] = [];

  of(values: readonly (string | undefined)[]): Buffer[] {
    const key = values.join('\u0000');
    if (key !== this.#key) {
      this.#key = key;
      this.#patterns = secretPatterns(values);
    }
    return this.#patterns;
  }
}

/** Overwrites every occurrence in place; returns whether anything was found. */
export function redactInPlace(buf: Buffer, patterns: readonly Buffer[]): boolean {
  let found = false;
  for (const p of patterns) {
    let at = buf.indexOf(p);
    while (at !== -1) {
      found = true;
      buf.fill(0x2a, at, at + p.length);
      at = buf.indexOf(p, at + p.length);
    }
  }
  return found;
}

/** A chunk-by-chunk redactor: `push` returns what can be sent now, `end` the rest. */
export class StreamRedactor {
  readonly #patterns: readonly Buffer[];
  readonly #maxHold: number;
  #held: Buffer = Buffer.alloc(0);
  /** Occurrences were found (for the audit detail). */
  found = false;

  constructor(patterns: readonly Buffer[]) {
    this.#patterns = patterns;
    this.#maxHold = Math.max(0, ...patterns.map((p) => p.length - 1));
  }

  push(chunk: Buffer): Buffer {
    const buf = this.#held.length ? Buffer.concat([this.#held, chunk]) : Buffer.from(chunk);
    if (redactInPlace(buf, this.#patterns)) this.found = true;
    const lastBreak = buf.lastIndexOf(0x0a);
    const hold = Math.min(this.#maxHold, buf.length - (lastBreak + 1));
    this.#held = hold ? buf.subarray(buf.length - hold) : Buffer.alloc(0);
    return hold ? buf.subarray(0, buf.length - hold) : buf;
  }

  end(): Buffer {
    const rest = this.#held;
    this.#held = Buffer.alloc(0);
    return rest;
  }
}
