// Module resolution for cross-file analysis: which scanned file an import names. Python: relative imports
// (`from .client import X`, `from .. import y`) and absolute dotted names against every ancestor folder of the
// importing file (and its `src/`), then the top-level packages anywhere in the scan, packages through `__init__.py`.
// JavaScript/TypeScript: relative specifiers with the usual extension and `index` probing (`./api.js` also finds `./api.ts`), `tsconfig.json` `paths`/`baseUrl`
// (also through `extends`, and `@/`/`~/` by convention when no config maps them), `package.json` subpath imports (`#lib/client`), and packages of the same repository imported by their `package.json`
// name (workspaces).
// Only files in the scan count: anything else is a third-party or unresolved module.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Family } from './parser.ts';

const JS_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];
const CONVENTIONAL_ALIAS = /^[@~]\//;

interface TsPaths {
  dir: string;
  baseUrl?: string;
  paths: [string, string[]][];
}

export class ModuleResolver {
  readonly #files: ReadonlySet<string>;
  readonly #cache = new Map<string, string | undefined>();
  readonly #tsconfigs = new Map<string, TsPaths | undefined>();

  constructor(files: ReadonlySet<string>) {
    this.#files = files;
  }

  /** The scanned file `specifier` names from `fromFile`, or undefined (third-party, standard library, not scanned). */
  resolve(fromFile: string, specifier: string, family: Family): string | undefined {
    const key = `${family}\u0000${path.dirname(fromFile)}\u0000${specifier}`;
    if (this.#cache.has(key)) return this.#cache.get(key);
    const found = family === 'python' ? this.#python(fromFile, specifier) : this.#javascript(fromFile, specifier);
    this.#cache.set(key, found);
    return found;
  }

  #python(fromFile: string, spec: string): string | undefined {
    const dots = /^\.*/.exec(spec)![0].length;
    const parts = spec.slice(dots).split('.').filter(Boolean);
    if (dots) {
      let dir = path.dirname(fromFile);
      for (let i = 1; i < dots; i++) dir = path.dirname(dir);
      return this.#pyModule(dir, parts);
    }
    if (!parts.length) return undefined;
    for (let dir = path.dirname(fromFile); ; dir = path.dirname(dir)) {
      const hit = this.#pyModule(dir, parts) ?? this.#pyModule(path.join(dir, 'src'), parts);
      if (hit) return hit;
      if (path.dirname(dir) === dir) break;
    }
    // A package whose folder the project maps to another name (setuptools `package-dir = {"qradar_mcp" = "."}`).
    for (let dir = path.dirname(fromFile); ; dir = path.dirname(dir)) {
      for (const [name, rel] of this.#packageDirs(dir)) {
        const prefix = name ? name.split('.') : [];
        if (prefix.length >= parts.length || prefix.some((p, i) => parts[i] !== p)) continue;
        const hit = this.#pyModule(path.resolve(dir, rel), parts.slice(prefix.length));
        if (hit) return hit;
      }
      if (path.dirname(dir) === dir) break;
    }
    // A package of another member of the repository (`api/src/av_api/` imported as `av_api` from `server/`).
    this.#pyPackages ??= this.#findPyPackages();
    const roots = this.#pyPackages.get(parts[0]!) ?? [];
    for (const root of roots) {
      const hit = this.#pyModule(root, parts);
      if (hit) return hit;
    }
    // The same without `__init__.py` (a namespace package, PEP 420): `from shared.slack_api import …` where
    // `libs/shared/shared/slack_api.py` is a workspace member's package. Only a dotted name that reaches a file counts.
    if (parts.length < 2) return undefined;
    this.#pyFolders ??= this.#findPyFolders();
    for (const root of this.#pyFolders.get(parts[0]!) ?? []) {
      if (roots.includes(root)) continue;
      const hit = this.#pyModule(root, parts);
      if (hit) return hit;
    }
    return undefined;
  }

  #pyFolders: Map<string, string[]> | undefined;

  /** Every folder of the scan holding Python files, by name → their parent folders. */
  #findPyFolders(): Map<string, string[]> {
    const found = new Map<string, string[]>();
    for (const file of this.#files) {
      if (!file.endsWith('.py')) continue;
      const folder = path.dirname(file);
      const list = found.get(path.basename(folder)) ?? [];
      if (!list.includes(path.dirname(folder))) found.set(path.basename(folder), [...list, path.dirname(folder)]);
    }
    return found;
  }

  #pyPackages: Map<string, string[]> | undefined;
  readonly #pyPackageDirs = new Map<string, [string, string][]>();

  /**
   * setuptools' `package-dir` of the project in `dir` (pyproject.toml `[tool.setuptools] package-dir`, setup.py
   * `package_dir=`, setup.cfg `[options] package_dir`): package name → folder, relative to `dir`.
   */
  #packageDirs(dir: string): [string, string][] {
    let found = this.#pyPackageDirs.get(dir);
    if (found) return found;
    found = [];
    for (const manifest of ['pyproject.toml', 'setup.py', 'setup.cfg']) {
      let text: string;
      try {
        text = readFileSync(path.join(dir, manifest), 'utf8');
      } catch {
        continue;
      }
      const m = /package[-_]dir\s*[=:]\s*(\{[^}]*\}|(?:\n[ \t]+[^\n]*)+)|^\[tool\.setuptools\.package-dir\]\s*\n((?:[^[\n][^\n]*\n?)*)/m.exec(text);
      const body = m?.[1] ?? m?.[2] ?? '';
      for (const pair of body.matchAll(/["']?([\w.]*)["']?\s*[=:]\s*["']?([\w./-]+)["']?/g)) found.push([pair[1]!, pair[2]!]);
    }
    this.#pyPackageDirs.set(dir, found);
    return found;
  }

  /** Top-level Python packages of the scan (a folder with `__init__.py` whose parent has none) → their parent folders. */
  #findPyPackages(): Map<string, string[]> {
    const found = new Map<string, string[]>();
    for (const file of this.#files) {
      if (path.basename(file) !== '__init__.py') continue;
      const pkg = path.dirname(file);
      const parent = path.dirname(pkg);
      if (this.#files.has(path.join(parent, '__init__.py'))) continue;
      const list = found.get(path.basename(pkg)) ?? [];
      if (!list.includes(parent)) found.set(path.basename(pkg), [...list, parent]);
    }
    return found;
  }

  #pyModule(dir: string, parts: string[]): string | undefined {
    const base = path.join(dir, ...parts);
    if (!parts.length) return this.#has(path.join(dir, '__init__.py'));
    return this.#has(base + '.py') ?? this.#has(path.join(base, '__init__.py')) ?? this.#has(base + '.pyi');
  }

  #javascript(fromFile: string, spec: string): string | undefined {
    if (spec.startsWith('.') || spec.startsWith('/')) return this.#jsFile(path.resolve(path.dirname(fromFile), spec));
    if (spec.startsWith('#')) return this.#subpathImport(fromFile, spec) ?? this.#tsPaths(fromFile, spec);
    return this.#tsPaths(fromFile, spec) ?? this.#workspace(spec) ?? this.#conventionalAlias(fromFile, spec);
  }

  /**
   * `@/lib/api` or `~/lib/api` that no tsconfig maps (the config is generated, or lives where the scan does not reach):
   * the convention of Next.js, Nuxt and Vite templates, `src/` or the project folder. Neither can be an npm package.
   */
  #conventionalAlias(fromFile: string, spec: string): string | undefined {
    if (!CONVENTIONAL_ALIAS.test(spec)) return undefined;
    const rest = spec.slice(2);
    for (let dir = path.dirname(fromFile); ; dir = path.dirname(dir)) {
      const hit = this.#jsFile(path.join(dir, 'src', rest)) ?? this.#jsFile(path.join(dir, rest));
      if (hit || this.#atProjectRoot(dir) || path.dirname(dir) === dir) return hit;
    }
  }

  readonly #packageImports = new Map<string, { dir: string; imports: Record<string, unknown> } | undefined>();

  /**
   * Node's subpath imports: `import x from '#mcp/server'` names the nearest `package.json`'s `"imports"` entry
   * (`"#mcp/server": "./dist/mcp/server.js"`, `"#lib/*": { "import": "./src/lib/*.ts" }`). Build output that is not
   * scanned is also looked for under `src/`.
   */
  #subpathImport(fromFile: string, spec: string): string | undefined {
    const pkg = this.#nearestImports(path.dirname(fromFile));
    if (!pkg) return undefined;
    for (const [pattern, target] of Object.entries(pkg.imports)) {
      const rest = wildcardMatch(pattern, spec);
      if (rest === undefined) continue;
      for (const t of exportTargets(target)) {
        if (typeof t !== 'string' || !t.startsWith('.')) continue;
        const rel = t.replaceAll('*', rest).replace(/^\.\//, '').replace(/\.d\.[cm]?ts$/, '');
        const hit = this.#jsFile(path.join(pkg.dir, rel)) ?? this.#jsFile(path.join(pkg.dir, rel.replace(/^(dist|build|lib|out)\//, 'src/')));
        if (hit) return hit;
      }
    }
    return undefined;
  }

  /** The `imports` field of the nearest package.json above `dir` (read once per folder). */
  #nearestImports(dir: string): { dir: string; imports: Record<string, unknown> } | undefined {
    if (this.#packageImports.has(dir)) return this.#packageImports.get(dir);
    let found: { dir: string; imports: Record<string, unknown> } | undefined;
    let text: string | undefined;
    try {
      text = readFileSync(path.join(dir, 'package.json'), 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      let imports: unknown;
      try {
        imports = (JSON.parse(text) as { imports?: unknown }).imports;
      } catch {
        imports = undefined;
      }
      found = imports && typeof imports === 'object' ? { dir, imports: imports as Record<string, unknown> } : undefined;
    } else {
      const parent = path.dirname(dir);
      found = parent === dir ? undefined : this.#nearestImports(parent);
    }
    this.#packageImports.set(dir, found);
    return found;
  }

  /**
   * Whether `spec` names this repository's own code through an alias (a `tsconfig.json` `paths` pattern such as `@/*`,
   * or a `package.json` `imports` entry), whether or not the file it maps to is part of the scan.
   */
  isOwnAlias(fromFile: string, spec: string): boolean {
    const ts = this.#tsconfig(path.dirname(fromFile));
    // (Not a catch-all `"*"` pattern, nor one mapping into `node_modules`: those name packages as much as own code.)
    if (ts && ts.paths.some(([pattern, targets]) => pattern !== '*' && !targets.every((t) => t.includes('node_modules')) && wildcardMatch(pattern, spec) !== undefined)) return true;
    if (CONVENTIONAL_ALIAS.test(spec)) return true;
    const pkg = spec.startsWith('#') ? this.#nearestImports(path.dirname(fromFile)) : undefined;
    return !!pkg && Object.keys(pkg.imports).some((pattern) => wildcardMatch(pattern, spec) !== undefined);
  }

  #tsPaths(fromFile: string, spec: string): string | undefined {
    const ts = this.#tsconfig(path.dirname(fromFile));
    if (!ts) return undefined;
    for (const [pattern, targets] of ts.paths) {
      const rest = wildcardMatch(pattern, spec);
      if (rest === undefined) continue;
      for (const target of targets) {
        const hit = this.#jsFile(path.resolve(ts.baseUrl ?? ts.dir, target.replace('*', rest)));
        if (hit) return hit;
      }
    }
    return ts.baseUrl ? this.#jsFile(path.resolve(ts.baseUrl, spec)) : undefined;
  }

  #packages: Map<string, { dir: string; entries: string[] }> | undefined;

  /**
   * A package of this repository imported by its name (`@acme/api-client` in an npm/pnpm/yarn workspace): its
   * `package.json` is beside scanned files. Its entry points often name build output (`dist/index.js`), which is not
   * scanned, so `dist/`, `build/`, `lib/` and `out/` are also tried as `src/`.
   */
  #workspace(spec: string): string | undefined {
    this.#packages ??= this.#findPackages();
    const parts = spec.split('/');
    const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
    const pkg = this.#packages.get(name);
    if (!pkg) return undefined;
    const sub = spec.slice(name.length + 1);
    const candidates = sub ? [sub, `src/${sub}`] : [...pkg.entries, 'src/index', 'index'];
    for (const c of candidates) {
      const rel = c.replace(/^\.\//, '').replace(/\.d\.[cm]?ts$/, '');
      const hit = this.#jsFile(path.join(pkg.dir, rel)) ?? this.#jsFile(path.join(pkg.dir, rel.replace(/^(dist|build|lib|out)\//, 'src/')));
      if (hit) return hit;
    }
    return undefined;
  }

  #findPackages(): Map<string, { dir: string; entries: string[] }> {
    const found = new Map<string, { dir: string; entries: string[] }>();
    const dirs = new Set<string>();
    for (const file of this.#files) {
      if (!JS_EXTENSIONS.includes(path.extname(file))) continue;
      // The package root is the nearest ancestor with a package.json; stop at folders already seen.
      for (let dir = path.dirname(file); !dirs.has(dir); dir = path.dirname(dir)) {
        dirs.add(dir);
        if (path.dirname(dir) === dir) break;
      }
    }
    for (const dir of dirs) {
      if (dir.split(path.sep).includes('node_modules')) continue;
      let manifest: { name?: unknown; main?: unknown; module?: unknown; source?: unknown; types?: unknown; exports?: unknown };
      try {
        manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      } catch {
        continue;
      }
      if (typeof manifest.name !== 'string' || found.has(manifest.name)) continue;
      const entries = [manifest.source, manifest.module, manifest.main, manifest.types, ...exportTargets(manifest.exports)].filter((e): e is string => typeof e === 'string');
      found.set(manifest.name, { dir, entries });
    }
    return found;
  }

  #jsFile(base: string): string | undefined {
    const direct = this.#has(base);
    if (direct) return direct;
    const ext = path.extname(base);
    const stem = ['.js', '.jsx', '.mjs', '.cjs'].includes(ext) ? base.slice(0, -ext.length) : base;
    for (const e of JS_EXTENSIONS) {
      const hit = this.#has(stem + e);
      if (hit) return hit;
    }
    for (const e of JS_EXTENSIONS) {
      const hit = this.#has(path.join(base, 'index' + e));
      if (hit) return hit;
    }
    return undefined;
  }

  #has(file: string): string | undefined {
    return this.#files.has(file) ? file : undefined;
  }

  /** The nearest tsconfig.json / jsconfig.json, with what it inherits through `extends`, read once per folder. */
  #tsconfig(dir: string): TsPaths | undefined {
    if (this.#tsconfigs.has(dir)) return this.#tsconfigs.get(dir);
    let found: TsPaths | undefined;
    for (const name of ['tsconfig.json', 'jsconfig.json']) {
      found = readTsconfig(path.join(dir, name), 0);
      if (found) break;
    }
    if (!found) {
      const parent = path.dirname(dir);
      found = parent === dir || this.#atProjectRoot(dir) ? undefined : this.#tsconfig(parent);
    }
    this.#tsconfigs.set(dir, found);
    return found;
  }

  #atProjectRoot(dir: string): boolean {
    try {
      readFileSync(path.join(dir, 'package.json'));
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * A tsconfig's `baseUrl` and `paths`, its own or inherited through `extends` (relative files only: a shared config
 * from a package, `@tsconfig/node20`, maps no aliases of this repository). `paths` without a `baseUrl` are relative
 * to the file that declares them, as TypeScript has it.
 */
function readTsconfig(file: string, depth: number): TsPaths | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const config = parseJsonc(text) as { extends?: unknown; compilerOptions?: { baseUrl?: string; paths?: Record<string, string[]> } } | undefined;
  const dir = path.dirname(file);
  const parents = (Array.isArray(config?.extends) ? config.extends : [config?.extends])
    .filter((e): e is string => typeof e === 'string' && e.startsWith('.'))
    .map((e) => depth < 5 ? readTsconfig(path.resolve(dir, e.endsWith('.json') ? e : e + '.json'), depth + 1) : undefined);
  const inherited = parents.reduce<TsPaths | undefined>((acc, p) => p ? { dir: p.dir, baseUrl: p.baseUrl ?? acc?.baseUrl, paths: p.paths.length ? p.paths : acc?.paths ?? [] } : acc, undefined);
  const options = config?.compilerOptions;
  const own = Object.entries(options?.paths ?? {}).filter((entry): entry is [string, string[]] => Array.isArray(entry[1]));
  return {
    dir: own.length || !inherited ? dir : inherited.dir,
    baseUrl: options?.baseUrl ? path.resolve(dir, options.baseUrl) : inherited?.baseUrl,
    paths: own.length ? own : inherited?.paths ?? [],
  };
}

/**
 * What `*` stands for when `spec` matches `pattern` (`#lib/*` / `@app/*`, as in tsconfig `paths` and package.json
 * `imports`): '' for an exact match, undefined for none.
 */
function wildcardMatch(pattern: string, spec: string): string | undefined {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === spec ? '' : undefined;
  if (spec.startsWith(pattern.slice(0, star)) && spec.endsWith(pattern.slice(star + 1)) && spec.length >= pattern.length - 1) {
    return spec.slice(star, spec.length - (pattern.length - star - 1));
  }
  return undefined;
}

/** The file targets of a package.json `exports` field for the package root (`"."`), whatever the conditions. */
function exportTargets(exports: unknown): unknown[] {
  if (typeof exports === 'string') return [exports];
  if (Array.isArray(exports)) return exports.flatMap(exportTargets);
  if (!exports || typeof exports !== 'object') return [];
  const root = (exports as Record<string, unknown>)['.'] ?? exports;
  if (typeof root === 'string') return [root];
  if (!root || typeof root !== 'object') return [];
  return Object.values(root as Record<string, unknown>).flatMap((v) => (typeof v === 'string' ? [v] : exportTargets(v)));
}

/** JSON with comments and trailing commas (tsconfig.json), or undefined when it still does not parse. */
export function parseJsonc(text: string): unknown {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2);
      if (i < 0) break;
      i++;
    } else out += c;
  }
  try {
    return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
  } catch {
    return undefined;
  }
}

function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}
