// A tiny validating reader over parsed YAML. Every accessor records problems with the exact key path
// (`upstreams[1].credentials.type`) and a fix hint instead of throwing, so one run reports all issues.
import type { ConfigIssue } from './errors.ts';

type Json = unknown;

export class Reader {
  readonly value: Json;
  readonly path: string;
  readonly issues: ConfigIssue[];
  #seen = new Set<string>();

  constructor(value: Json, path: string, issues: ConfigIssue[]) {
    this.value = value;
    this.path = path;
    this.issues = issues;
  }

  fail(message: string, key?: string): void {
    this.issues.push({ path: key === undefined ? this.path : this.child(key), message });
  }

  child(key: string | number): string {
    if (typeof key === 'number') return `${this.path}[${key}]`;
    return this.path ? `${this.path}.${key}` : key;
  }

  isObject(): boolean {
    return typeof this.value === 'object' && this.value !== null && !Array.isArray(this.value);
  }

  /** Whether the key is present (and marks it as known). */
  has(key: string): boolean {
    this.#seen.add(key);
    return this.isObject() && (this.value as Record<string, Json>)[key] !== undefined && (this.value as Record<string, Json>)[key] !== null;
  }

  raw(key: string): Json {
    this.#seen.add(key);
    return this.isObject() ? (this.value as Record<string, Json>)[key] : undefined;
  }

  /** A nested object; reports when the key exists with another type. Returns a reader over `{}` when absent. */
  object(key: string, required = false): Reader {
    const v = this.raw(key);
    const r = new Reader(v ?? {}, this.child(key), this.issues);
    if (v === undefined || v === null) {
      if (required) this.fail('is required (a mapping)', key);
    } else if (!r.isObject()) {
      this.fail(`expected a mapping (key: value), got ${describe(v)}`, key);
      return new Reader({}, this.child(key), this.issues);
    }
    return r;
  }

  list(key: string, required = false): Reader[] {
    const v = this.raw(key);
    if (v === undefined || v === null) {
      if (required) this.fail('is required (a list)', key);
      return [];
    }
    if (!Array.isArray(v)) {
      this.fail(`expected a list, got ${describe(v)}`, key);
      return [];
    }
    return v.map((item, i) => new Reader(item, `${this.child(key)}[${i}]`, this.issues));
  }

  string(key: string, opts: { required: true; hint?: string }): string;
  string(key: string, opts?: { required?: false; hint?: string }): string | undefined;
  string(key: string, opts: { required?: boolean; hint?: string } = {}): string | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) {
      if (opts.required) this.fail(`is required${opts.hint ? ` (${opts.hint})` : ''}`, key);
      return opts.required ? '' : undefined;
    }
    if (typeof v !== 'string' || v === '') {
      this.fail(`expected a non-empty string, got ${describe(v)}`, key);
      return opts.required ? '' : undefined;
    }
    return v;
  }

  stringList(key: string): string[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [];
    if (typeof v === 'string') return v.split(/\s+/).filter(Boolean); // `scope: "a b"` is the OAuth form
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) {
      this.fail(`expected a list of strings, got ${describe(v)}`, key);
      return [];
    }
    return v as string[];
  }

  number(key: string, fallback: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || (opts.integer && !Number.isInteger(v))) {
      this.fail(`expected ${opts.integer ? 'an integer' : 'a number'}, got ${describe(v)}`, key);
      return fallback;
    }
    if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
      this.fail(`must be between ${opts.min ?? '-∞'} and ${opts.max ?? '∞'}, got ${v}`, key);
      return fallback;
    }
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      this.fail(`expected true or false, got ${describe(v)}`, key);
      return fallback;
    }
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T): T {
    const v = this.raw(key);
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || !allowed.includes(v as T)) {
      this.fail(`expected one of ${allowed.join(', ')}${v === undefined ? '' : `, got ${describe(v)}`}`, key);
      return fallback ?? allowed[0]!;
    }
    return v as T;
  }

  url(key: string, opts: { required?: boolean; hint?: string } = {}): string | undefined {
    const v = opts.required ? this.string(key, { required: true, hint: opts.hint }) : this.string(key);
    if (!v) return undefined;
    try {
      const u = new URL(v);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
      return v;
    } catch {
      this.fail(`expected an absolute http(s) URL, got ${JSON.stringify(v)}`, key);
      return undefined;
    }
  }

  /** Reports keys that were never read: typos are the most common config bug. */
  rejectUnknownKeys(): void {
    if (!this.isObject()) return;
    const known = [...this.#seen];
    for (const key of Object.keys(this.value as object)) {
      if (this.#seen.has(key)) continue;
      const guess = closest(key, known);
      this.fail(`unknown key${guess ? ` (did you mean '${guess}'?)` : ''}; allowed here: ${known.join(', ')}`, key);
    }
  }
}

export function describe(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return `${typeof v} ${String(v)}`;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
