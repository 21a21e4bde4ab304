// Cross-file state of one scan for `authorization-passthrough`: what each module exports (function, method and
// constructor summaries, which constructor parameters land in which fields and which fields reach a sink), what flows
// through shared storage (ContextVar, AsyncLocalStorage, request.state / req.X / g.X, module globals and class
// attributes), and what each file used, so that a file is analysed again when something it used has changed.
// Names are followed to their definitions through imports, re-exports and export aliases (see resolve.ts).
import type { Imports } from './imports.ts';
import type { Family } from './parser.ts';
import { ModuleResolver } from './resolve.ts';
import type { SinkSite, Summary, Taints } from './taint/core.ts';

export interface ModuleFacts {
  family: Family;
  imports: Imports;
}

/**
 * What a local name stands for: a definition in a scanned file, a scanned module, code outside the scan (a package), or
 * the repository's own code that is not in the scan (imported through an alias: neither a package nor known).
 */
export type Resolved =
  | { kind: 'symbol'; file: string; name: string }
  | { kind: 'module'; file: string }
  /** `own`: a Python module of the repository's own packages that the scan does not hold. */
  | { kind: 'package'; module: string; name?: string; own?: boolean }
  | { kind: 'unseen'; module: string; name?: string };

/** The file of a Python namespace folder (see `#namespaceFolder`): its dotted name after this prefix. */
const NAMESPACE = 'namespace:';

export class Program {
  readonly resolver: ModuleResolver;
  readonly modules = new Map<string, ModuleFacts>();
  /** `file#f`, `file#Class.method`: function and method summaries. */
  readonly summaries = new Map<string, Summary>();
  /** `file#Class` → field → constructor-parameter placeholders stored there. */
  readonly ctorFields = new Map<string, Map<string, Taints>>();
  /** `file#Class` → field → sinks a method sends that field to. */
  readonly fieldSinks = new Map<string, Map<string, SinkSite[]>>();
  /** Method name → `file#Class` of every class that defines it (a call on an object of unknown type, by name). */
  readonly methods = new Map<string, Set<string>>();
  /** Top-level function name → every file defining one so named (a helper handed on under its own name). */
  readonly functions = new Map<string, Set<string>>();
  /** Base class name → `file#Subclass` of every class that extends it. */
  readonly subclasses = new Map<string, Set<string>>();
  /** `file#name` of a module-level function → the functions assigned over it at run time (`api.get_token = patched`). */
  readonly patches = new Map<string, Set<string>>();
  /** `file#NAME` of a module-level string constant → its value (storage keys, header names). */
  readonly constants = new Map<string, string>();
  /** `file#NAME` of a module-level FastAPI/FastMCP dependency (`ApiKeyDep = Depends(get_api_key)`) → `file#get_api_key`. */
  readonly dependencies = new Map<string, string>();
  /** `file#name` of a module-level instance → the `file#Class` it was built from. */
  readonly instances = new Map<string, string>();
  /** Storage cells → the inbound values written there. */
  readonly stores = new Map<string, Taints>();
  /** Storage cells written at all (with any value): no inference from a name once a write has been seen. */
  readonly written = new Set<string>();
  /** File → its project's root: storage named after framework objects is shared within a project, not across. */
  readonly scopes = new Map<string, string>();
  /** Project roots whose FastMCP server is an OAuth proxy: the access token its tools see is the upstream's. */
  readonly tokenProxies = new Set<string>();
  /** `file#Class` → the other package's class it only extends (`class AcmeCore extends ClientSDK {}`). */
  readonly packageSubclasses = new Map<string, string>();
  readonly #versions = new Map<string, number>();

  readonly #abs: ReadonlyMap<string, string>;
  readonly #shown = new Map<string, string>();

  /** `files`: display path → absolute path of every file taking part. Files are named by display path everywhere else. */
  constructor(files: ReadonlyMap<string, string>) {
    this.#abs = files;
    for (const [shown, abs] of files) this.#shown.set(abs, shown);
    this.resolver = new ModuleResolver(new Set(files.values()));
  }

  /** The file (display path) `specifier` names from `file`. */
  resolveModule(file: string, specifier: string, family: Family): string | undefined {
    const hit = this.resolver.resolve(this.#abs.get(file) ?? file, specifier, family);
    return hit === undefined ? undefined : this.#shown.get(hit);
  }


  version(key: string): number {
    return this.#versions.get(key) ?? 0;
  }

  bump(key: string): void {
    this.#versions.set(key, this.version(key) + 1);
  }

  /** What `local` stands for in `file` (undefined: defined in the file itself, a global, or not imported). */
  resolveName(file: string, local: string): Resolved | undefined {
    const facts = this.modules.get(file);
    const binding = facts?.imports.bindings.get(local);
    if (!facts || !binding) return undefined;
    return this.#follow(file, facts.family, binding.module, binding.name, 0);
  }

  /** The names a scanned module exports (its definitions, aliases and re-exports, `export *` followed), for `import * as ns`. */
  exportedNames(file: string, depth = 0): string[] {
    const facts = this.modules.get(file);
    if (!facts || depth > 4) return [];
    const names = new Set([...facts.imports.defines, ...facts.imports.exportAliases.keys()]);
    for (const r of facts.imports.reexports) {
      if (r.names !== '*') for (const n of r.names.keys()) names.add(n);
      else {
        const target = this.resolveModule(file, r.module, facts.family);
        if (target) for (const n of this.exportedNames(target, depth + 1)) names.add(n);
      }
    }
    return [...names];
  }

  /** `mod.name` where `mod` is a scanned module. */
  member(moduleFile: string, name: string): Resolved {
    if (moduleFile.startsWith(NAMESPACE)) return this.#inPackageFolder(moduleFile.slice(NAMESPACE.length), name) ?? { kind: 'unseen', module: moduleFile.slice(NAMESPACE.length), name };
    return this.#symbol(moduleFile, name, 0) ?? { kind: 'symbol', file: moduleFile, name };
  }

  /**
   * Python `from pkg import handlers` where `pkg/handlers/` is a folder of the scan without an `__init__.py` (a namespace
   * package, a partial checkout): the folder, whose members (`handlers.handle_call`) are found by `#inPackageFolder`.
   */
  #namespaceFolder(module: string, name: string): Resolved | undefined {
    if (module.startsWith('.')) return undefined;
    const dotted = `${module}.${name}`;
    return this.#scannedFolder(dotted) ? { kind: 'module', file: NAMESPACE + dotted } : undefined;
  }

  /** Whether the dotted Python package `dotted` is a folder of scanned files (`pkg.sub` → `…/pkg/sub/`). */
  #scannedFolder(dotted: string): boolean {
    const folder = `${dotted.replaceAll('.', '/')}/`;
    // (Indexed by the folder's own name: this runs for every import the scan does not resolve.)
    if (!this.#folders) {
      this.#folders = new Map();
      for (const file of this.modules.keys()) {
        for (let end = file.lastIndexOf('/'); end > 0; end = file.lastIndexOf('/', end - 1)) {
          const dir = file.slice(0, end + 1);
          const base = dir.slice(dir.lastIndexOf('/', dir.length - 2) + 1, -1);
          const list = this.#folders.get(base) ?? [];
          if (!list.includes(dir)) this.#folders.set(base, [...list, dir]);
        }
      }
    }
    return (this.#folders.get(dotted.slice(dotted.lastIndexOf('.') + 1)) ?? []).some((dir) => dir === folder || dir.endsWith(`/${folder}`));
  }

  /** Folder name → the folders of scanned files so named (with their paths, ending in `/`), for `#scannedFolder`. */
  #folders: Map<string, string[]> | undefined;

  /**
   * A Python module of the repository's own packages that the scan does not hold (`from src.core.auth_context import
   * AuthContext` beside scanned `src/core/*.py`, or a relative import): unknown code, but not another vendor's SDK.
   */
  #ownPythonModule(module: string): boolean {
    if (module.startsWith('.')) return true;
    const parts = module.split('.');
    return parts.length > 1 && this.#scannedFolder(parts.slice(0, -1).join('.'));
  }

  #follow(file: string, family: Family, module: string, name: string | undefined, depth: number): Resolved | undefined {
    const target = this.resolveModule(file, module, family);
    if (!target) {
      // Python `from pkg import sub` where `sub` is a module.
      if (family === 'python' && name) {
        const sub = this.resolveModule(file, module.endsWith('.') ? module + name : `${module}.${name}`, family);
        if (sub) return { kind: 'module', file: sub };
      }
      const found = family === 'python' && name ? this.#inPackageFolder(module, name) ?? this.#namespaceFolder(module, name) : undefined;
      if (found) return found;
      // The repository's own code under an alias (`@/core/context`) whose file is not in the scan: not another package.
      if (family !== 'python' && this.resolver.isOwnAlias(this.#abs.get(file) ?? file, module)) return { kind: 'unseen', module, name };
      if (family === 'python' && this.#ownPythonModule(module)) return { kind: 'package', module, name, own: true };
      // Another package, or a module of this repository outside the scan: either way, code we cannot see.
      return { kind: 'package', module, name };
    }
    if (name === undefined) return { kind: 'module', file: target };
    return this.#symbol(target, name, depth + 1) ??
      (family === 'python' ? this.#pySubmodule(file, module, name) ?? this.#namespaceFolder(module, name) : undefined) ?? { kind: 'symbol', file: target, name };
  }

  /**
   * Python `from pkg.sub import Name` where `pkg/sub/` is a folder of the scan whose `__init__.py` is missing or does not
   * re-export `Name` (a namespace package, a partial checkout): the one module under that folder defining `Name`.
   */
  #inPackageFolder(module: string, name: string): Resolved | undefined {
    if (module.startsWith('.')) return undefined;
    if (!this.#pyDefiners) {
      this.#pyDefiners = new Map();
      for (const [file, facts] of this.modules) {
        if (facts.family !== 'python') continue;
        for (const defined of facts.imports.defines) this.#pyDefiners.set(defined, [...(this.#pyDefiners.get(defined) ?? []), file]);
      }
    }
    const folder = `${module.replaceAll('.', '/')}/`;
    const files = (this.#pyDefiners.get(name) ?? []).filter((f) => f.startsWith(folder) || f.includes(`/${folder}`));
    return files.length === 1 ? { kind: 'symbol', file: files[0]!, name } : undefined;
  }

  #pyDefiners: Map<string, string[]> | undefined;

  #pySubmodule(file: string, module: string, name: string): Resolved | undefined {
    const sub = this.resolveModule(file, module.endsWith('.') ? module + name : `${module}.${name}`, 'python');
    return sub ? { kind: 'module', file: sub } : undefined;
  }

  /** The definition `name` exported by `file` stands for, through aliases, bindings and re-exports. */
  #symbol(file: string, name: string, depth: number): Resolved | undefined {
    const facts = this.modules.get(file);
    if (!facts || depth > 8) return undefined;
    const local = facts.imports.exportAliases.get(name) ?? name;
    if (facts.imports.defines.has(local)) return { kind: 'symbol', file, name: local };
    const binding = facts.imports.bindings.get(local);
    if (binding) return this.#follow(file, facts.family, binding.module, binding.name, depth);
    for (const re of facts.imports.reexports) {
      if (re === undefined) continue;
      const inner = re.names === '*' ? (name === 'default' ? undefined : name) : re.names.get(name);
      if (inner === undefined) continue;
      const hit = this.#follow(file, facts.family, re.module, inner, depth);
      if (hit && (hit.kind !== 'symbol' || this.modules.get(hit.file)?.imports.defines.has(hit.name) || re.names !== '*')) return hit;
    }
    return undefined;
  }
}

/** A stable text for a summary, to tell whether re-analysing its file changed it. */
export function signature(value: unknown): string {
  return JSON.stringify(value, (k, v) => (k === 'path' || k === 'owner' ? undefined : v instanceof Map ? [...v.entries()] : v));
}
