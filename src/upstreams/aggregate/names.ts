// Names on the aggregated endpoint. Tools and prompts become `<upstream><sep><name>`; names that would
// break `^[A-Za-z0-9_-]{1,64}$` (too long, odd characters) or collide are shortened and suffixed with a
// stable hash of (upstream, original name), so the same tool always gets the same public name.
// Resource URIs become `deputy://<upstream>/<original uri>` (the original kept verbatim, so URI
// templates still expand); reads route back by the first path segment.
import { createHash } from 'node:crypto';

export const PUBLIC_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX = 64;
export const URI_SCHEME = 'deputy://';

export interface Target {
  member: string;
  original: string;
}

export class NameMapper {
  readonly separator: string;
  readonly unprefixed?: string;
  readonly #members: string[];

  constructor(members: string[], separator: string, unprefixed?: string) {
    this.separator = separator;
    this.unprefixed = unprefixed;
    // Longest first, so `a__b` wins over `a` when parsing `a__b__tool`.
    this.#members = [...members].sort((x, y) => y.length - x.length || x.localeCompare(y));
  }

  /** The preferred public name; may be taken by another tool (the registry then hashes). */
  candidate(member: string, original: string): string {
    const plain = member === this.unprefixed ? original : `${member}${this.separator}${original}`;
    return PUBLIC_NAME.test(plain) ? plain : this.hashed(member, original);
  }

  hashed(member: string, original: string): string {
    const hash = createHash('sha256').update(`${member}\u0000${original}`).digest('hex').slice(0, 8);
    const prefix = member === this.unprefixed ? '' : `${member}${this.separator}`;
    const safe = original.replace(/[^A-Za-z0-9_-]/g, '_');
    return `${prefix}${safe}`.slice(0, MAX - 9) + `_${hash}`;
  }

  /** Best-effort parse of a public name when no listing has been seen (plain names only). */
  parse(name: string): Target | undefined {
    for (const m of this.#members) {
      const p = `${m}${this.separator}`;
      if (m !== this.unprefixed && name.startsWith(p) && name.length > p.length) return { member: m, original: name.slice(p.length) };
    }
    return this.unprefixed ? { member: this.unprefixed, original: name } : undefined;
  }

  uri(member: string, original: string): string {
    return member === this.unprefixed ? original : `${URI_SCHEME}${member}/${original}`;
  }

  parseUri(uri: string): Target | undefined {
    if (uri.startsWith(URI_SCHEME)) {
      const rest = uri.slice(URI_SCHEME.length);
      const slash = rest.indexOf('/');
      const member = slash === -1 ? undefined : this.#members.find((m) => m === rest.slice(0, slash));
      if (member && member !== this.unprefixed) return { member, original: rest.slice(slash + 1) };
    }
    return this.unprefixed ? { member: this.unprefixed, original: uri } : undefined;
  }
}

/**
 * Public name ↔ (upstream, original) for one principal and one kind (tools or prompts). Names are
 * assigned as listings arrive; a candidate already bound to another tool makes the newcomer hashed.
 */
export class NameRegistry {
  readonly #byPublic = new Map<string, Target>();
  readonly #byTarget = new Map<string, string>();
  readonly #mapper: NameMapper;

  constructor(mapper: NameMapper) {
    this.#mapper = mapper;
  }

  assign(member: string, original: string): string {
    const key = `${member}\u0000${original}`;
    const known = this.#byTarget.get(key);
    if (known) return known;
    let name = this.#mapper.candidate(member, original);
    if (this.#byPublic.has(name)) name = this.#mapper.hashed(member, original);
    for (let i = 2; this.#byPublic.has(name); i++) name = `${this.#mapper.hashed(member, original).slice(0, MAX - 3)}_${i}`;
    this.#byPublic.set(name, { member, original });
    this.#byTarget.set(key, name);
    return name;
  }

  resolve(name: string): Target | undefined {
    return this.#byPublic.get(name);
  }
}
