// Shared helpers for the property-based fuzz tests (issue 12: "never hang, never fall over").
//
// Every property runs through `fuzzSync()` / `fuzzAsync()`: a fixed seed and a small number of runs
// by default, so `npm test` stays fast and deterministic. `npm run fuzz -- --runs N` (scripts/fuzz.ts)
// runs the same properties longer through environment variables:
//   FUZZ_RUNS      runs per property (instead of each property's default)
//   FUZZ_SEED      seed (default DEFAULT_SEED)
//   FUZZ_NAME      only properties whose name contains this (others return at once)
//   FUZZ_PATH      fast-check replay path of a reported failure (with its seed)
//   FUZZ_PROGRESS  1: progress, per-property results and outcome tallies on stderr ([fuzz] lines)
// On failure fast-check prints the seed, the replay path and the shrunk counterexample; the helpers
// add the command that reproduces it.
import fc from 'fast-check';
import { connect } from 'node:net';

/** Default seed of every property (override: FUZZ_SEED). */
export const DEFAULT_SEED = 0x5eed12;

const envInt = (name: string): number | undefined => {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
};

export const seed = envInt('FUZZ_SEED') ?? DEFAULT_SEED;
const progress = process.env.FUZZ_PROGRESS === '1';

/** The number of runs: FUZZ_RUNS when set (long fuzzing sessions), else the per-property default. */
export function runs(defaultRuns: number): number {
  return envInt('FUZZ_RUNS') ?? defaultRuns;
}

export interface FuzzOptions {
  /** Runs under `npm test` (FUZZ_RUNS overrides). */
  runs: number;
  /** Backstop per run for async properties (fast-check fails the run when exceeded). */
  perRunTimeoutMs?: number;
  /** Stop generating (and shrinking) after this long; a failure found so far is still reported. */
  timeLimitMs?: number;
  /** Inputs checked before the random ones on every run (minimal counterexamples of past failures). */
  examples?: unknown[];
}

const say = (line: string) => process.stderr.write(`[fuzz] ${line}\n`);

function progressTicker(name: string, total: number): () => void {
  let n = 0;
  let last = Date.now();
  const every = Math.max(1, Math.floor(total / 10));
  return () => {
    n++;
    if (!progress) return;
    const now = Date.now();
    if (n === total + 1) say(`${name}: a run failed, shrinking the counterexample…`);
    else if (n <= total && (n % every === 0 || now - last > 5000)) {
      say(`${name}: ${n}/${total}`);
      last = now;
    }
  };
}

function params<T>(opts: FuzzOptions): fc.Parameters<[T]> {
  const p: fc.Parameters<[T]> = { seed, numRuns: runs(opts.runs) };
  if (process.env.FUZZ_PATH) p.path = process.env.FUZZ_PATH;
  if (opts.perRunTimeoutMs) p.timeout = opts.perRunTimeoutMs;
  if (opts.timeLimitMs && !process.env.FUZZ_RUNS) p.interruptAfterTimeLimit = opts.timeLimitMs;
  // (Also when replaying: fast-check counts the examples in the replay path.)
  if (opts.examples?.length) p.examples = opts.examples.map((e) => [e as T]);
  return p;
}

async function check<T>(name: string, property: fc.IRawProperty<[T]>, opts: FuzzOptions): Promise<void> {
  const only = process.env.FUZZ_NAME;
  if (only && !name.toLowerCase().includes(only.toLowerCase())) {
    if (progress) say(`${name}: not selected (--name ${only})`);
    return;
  }
  const started = Date.now();
  const p = params<T>(opts);
  try {
    await fc.assert(property, p);
  } catch (error) {
    const e = error as Error;
    const replay = /path: "([^"]+)"/.exec(e.message)?.[1];
    const repro = `reproduce: npm run fuzz -- --seed ${seed} --runs ${p.numRuns} --name '${name.replace(/'/g, "'\\''")}'${replay ? ` --path '${replay}'` : ''}`;
    e.message = `${name}\n${e.message}\n${repro}`;
    say(`${name}: FAILED after ${Math.round((Date.now() - started) / 100) / 10} s (seed ${seed}); ${repro}`);
    throw e;
  }
  if (progress) say(`${name}: ok, ${p.numRuns} runs in ${Math.round((Date.now() - started) / 100) / 10} s (seed ${seed})`);
}

/** Checks a synchronous property over `arb`: `predicate` throws (an assertion) to fail a run. */
export function fuzzSync<T>(name: string, arb: fc.Arbitrary<T>, predicate: (value: T) => void, opts: FuzzOptions & { examples?: NoInfer<T>[] }): Promise<void> {
  const tick = progressTicker(name, runs(opts.runs));
  const property = fc.property(arb, (v) => {
    tick();
    predicate(v);
  });
  return check(name, property, opts);
}

/** Checks an asynchronous property over `arb`. */
export function fuzzAsync<T>(name: string, arb: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>, opts: FuzzOptions & { examples?: NoInfer<T>[] }): Promise<void> {
  const tick = progressTicker(name, runs(opts.runs));
  const property = fc.asyncProperty(arb, async (v) => {
    tick();
    await predicate(v);
  });
  return check(name, property, opts);
}

/**
 * Counts outcomes (status codes, error kinds) so long runs show what the fuzzer reached; printed at
 * exit under `npm run fuzz` (FUZZ_PROGRESS=1), silent otherwise.
 */
export function tally(name: string): (key: string) => void {
  const counts = new Map<string, number>();
  if (progress) process.once('exit', () => say(`${name}: ${[...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ×${v}`).join(', ')}`));
  return (key) => void counts.set(key, (counts.get(key) ?? 0) + 1);
}

// ---------------------------------------------------------------------------------------------
// Secrets must not leak: the longest piece of a secret that shows up somewhere else.

/**
 * A piece of `secret` at least `minLength` characters long that also occurs in `haystack`, or
 * undefined. (Any longer common piece contains one of exactly `minLength`, so only those are compared.)
 */
export function sharedPiece(secret: string, haystack: string, minLength: number): string | undefined {
  if (secret.length < minLength || haystack.length < minLength) return undefined;
  const windows = new Set<string>();
  for (let i = 0; i + minLength <= secret.length; i++) windows.add(secret.slice(i, i + minLength));
  for (let i = 0; i + minLength <= haystack.length; i++) {
    const w = haystack.slice(i, i + minLength);
    if (windows.has(w)) return w;
  }
  return undefined;
}

/** Where `piece` occurs in `haystack`, with `radius` characters either side (for assertion messages). */
export function around(haystack: string, piece: string, radius = 200): string {
  const i = haystack.indexOf(piece);
  if (i === -1) return preview(haystack, radius * 2);
  return `${i > radius ? '…' : ''}${JSON.stringify(haystack.slice(Math.max(0, i - radius), i + piece.length + radius))}${i + piece.length + radius < haystack.length ? '…' : ''}`;
}

/** `s` for an assertion message: long values are elided in the middle. */
export function preview(s: string, max = 160): string {
  return s.length <= max ? JSON.stringify(s) : `${JSON.stringify(s.slice(0, max / 2))}…(${s.length} chars)…${JSON.stringify(s.slice(-max / 2))}`;
}

// ---------------------------------------------------------------------------------------------
// Mutations: small edit scripts applied to a valid input. fast-check shrinks them to the fewest,
// smallest edits that still fail, which keeps counterexamples readable.

export type Edit =
  | { op: 'replace'; at: number; text: string }
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; length: number }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; length: number; times: number }
  | { op: 'swapcase'; at: number; length: number };

/** Characters that matter to the parsers under test, mixed with arbitrary ones. */
export const B64URL_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SPECIAL_CHARS = ['.', '=', '+', '/', ' ', '\t', '\n', '\r', '\0', '"', '\\', '{', '}', '[', ']', ',', ':', '%', '\u00e9', '\u2028', '\ufeff', '\ud83d\ude00', '\ud800', '\uffff'];

export const editText = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...B64URL_CHARS.split('')) },
    { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_CHARS) },
    { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  );

export const edit = (text: fc.Arbitrary<string> = editText()): fc.Arbitrary<Edit> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), text }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }), times: fc.integer({ min: 1, max: 64 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('swapcase' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }) },
  );

export const edits = (opts: { maxLength?: number; text?: fc.Arbitrary<string> } = {}): fc.Arbitrary<Edit[]> => fc.array(edit(opts.text), { minLength: 1, maxLength: opts.maxLength ?? 4 });

/** Applies an edit script to a string (positions wrap around the current length). */
export function applyEdits(input: string, script: readonly Edit[]): string {
  let s = input;
  for (const e of script) {
    const at = s.length === 0 ? 0 : e.at % (s.length + 1);
    switch (e.op) {
      case 'replace': s = s.slice(0, at) + e.text + s.slice(at + Math.max(1, [...e.text].length)); break;
      case 'insert': s = s.slice(0, at) + e.text + s.slice(at); break;
      case 'delete': s = s.slice(0, at) + s.slice(at + e.length); break;
      case 'truncate': s = s.slice(0, at); break;
      case 'duplicate': s = s.slice(0, at) + s.slice(at, at + e.length).repeat(e.times) + s.slice(at); break;
      case 'swapcase': {
        const part = [...s.slice(at, at + e.length)].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
        s = s.slice(0, at) + part + s.slice(at + e.length);
        break;
      }
    }
  }
  return s;
}

/** Byte-level edits (for bodies: invalid UTF-8, NULs, truncated multi-byte sequences). */
export type ByteEdit = { op: 'set'; at: number; byte: number } | { op: 'insert'; at: number; bytes: number[] } | { op: 'delete'; at: number; length: number } | { op: 'truncate'; at: number };

export const byteEdits = (): fc.Arbitrary<ByteEdit[]> =>
  fc.array(
    fc.oneof(
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 6 }) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
    ),
    { minLength: 1, maxLength: 4 },
  );

export function applyByteEdits(input: Buffer, script: readonly ByteEdit[]): Buffer {
  let b = input;
  for (const e of script) {
    const at = b.length === 0 ? 0 : e.at % (b.length + 1);
    switch (e.op) {
      case 'set': b = Buffer.concat([b.subarray(0, at), Buffer.from([e.byte]), b.subarray(at + 1)]); break;
      case 'insert': b = Buffer.concat([b.subarray(0, at), Buffer.from(e.bytes), b.subarray(at)]); break;
      case 'delete': b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.length)]); break;
      case 'truncate': b = b.subarray(0, at); break;
    }
  }
  return b;
}

/** Deeply nested JSON: arrays, objects or a mix, up to `maxDepth` levels (mostly shallow). */
export const deepJson = (maxDepth = 200_000): fc.Arbitrary<string> =>
  fc.record({ depth: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 100 }) }, { weight: 1, arbitrary: fc.integer({ min: 1000, max: maxDepth }) }), kind: fc.constantFrom('array', 'object', 'mixed', 'unclosed') }).map(({ depth, kind }) => {
    if (kind === 'array') return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    if (kind === 'object') return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    if (kind === 'mixed') return `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;
    return '['.repeat(depth);
  });

// ---------------------------------------------------------------------------------------------
// Time limits

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Rejects with a TimeoutError naming `what` when `promise` takes longer than `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms} ms (hang)`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client over node:net: sends exactly the bytes given (duplicate headers, bad
// framing, odd methods), parses one response, and can hang up mid-request.

export interface RawResponse {
  status: number;
  headers: [string, string][];
  /** Lower-cased header name → values. */
  header(name: string): string | undefined;
  body: Buffer;
  /** The response was a stream (text/event-stream) and was cut after its headers. */
  streamed: boolean;
}

export type RawResult =
  | { kind: 'response'; response: RawResponse }
  | { kind: 'closed'; received: Buffer } // the server closed (or reset) the connection without a complete response
  | { kind: 'aborted' }; // we hung up on purpose (abortAfter)

/**
 * Sends `request` to 127.0.0.1:`port`. With `abortAfter`, only that many bytes are written and the
 * socket is then destroyed (a client going away mid-request). Rejects with TimeoutError when no
 * complete response (or close) arrives within `timeoutMs`.
 */
export function rawHttp(port: number, request: Buffer, opts: { timeoutMs: number; head?: boolean; abortAfter?: number }): Promise<RawResult> {
  return within(opts.timeoutMs, 'raw HTTP request', new Promise<RawResult>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (r: RawResult) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(r);
    };
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (done) return;
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
        const got = Buffer.concat(chunks);
        const parsed = parseResponse(got, opts.head ?? false, true);
        return finish(parsed ? { kind: 'response', response: parsed } : { kind: 'closed', received: got });
      }
      done = true;
      reject(error);
    });
    socket.on('connect', () => {
      if (opts.abortAfter !== undefined) {
        socket.write(request.subarray(0, opts.abortAfter), () => setTimeout(() => finish({ kind: 'aborted' }), 20));
        return;
      }
      socket.write(request);
    });
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const parsed = parseResponse(Buffer.concat(chunks), opts.head ?? false, false);
      if (parsed) finish({ kind: 'response', response: parsed });
    });
    socket.on('end', () => {
      const got = Buffer.concat(chunks);
      const parsed = parseResponse(got, opts.head ?? false, true);
      finish(parsed ? { kind: 'response', response: parsed } : { kind: 'closed', received: got });
    });
  }));
}

/** One complete response from `data` (1xx interim responses skipped), or undefined if incomplete. */
function parseResponse(data: Buffer, head: boolean, atEnd: boolean): RawResponse | undefined {
  let offset = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', offset);
    if (end === -1) return undefined;
    const lines = data.subarray(offset, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) return atEnd ? { status: 0, headers: [], header: () => undefined, body: data, streamed: false } : undefined;
    const status = Number(m[1]);
    const headers = lines.slice(1).map((l): [string, string] => {
      const i = l.indexOf(':');
      return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()];
    });
    const header = (name: string) => headers.find(([k]) => k === name)?.[1];
    const bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      offset = bodyStart;
      continue;
    }
    const rest = data.subarray(bodyStart);
    const make = (body: Buffer, streamed = false): RawResponse => ({ status, headers, header, body, streamed });
    if (head || status === 204 || status === 304) return make(Buffer.alloc(0));
    if (/text\/event-stream/i.test(header('content-type') ?? '')) return make(rest, true);
    const te = header('transfer-encoding');
    if (te && /chunked/i.test(te)) {
      const body = dechunk(rest);
      return body ? make(body) : atEnd ? make(rest) : undefined;
    }
    const cl = header('content-length');
    if (cl !== undefined) {
      const n = Number(cl);
      if (rest.length >= n) return make(rest.subarray(0, n));
      return atEnd ? make(rest) : undefined;
    }
    return atEnd ? make(rest) : undefined;
  }
}

function dechunk(data: Buffer): Buffer | undefined {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', i);
    if (eol === -1) return undefined;
    const size = parseInt(data.subarray(i, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) return Buffer.concat(out);
    if (size === 0) return Buffer.concat(out);
    if (data.length < eol + 2 + size + 2) return undefined;
    out.push(data.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
}
