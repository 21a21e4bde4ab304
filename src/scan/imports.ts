// Import tables: which local name stands for which module member, so `pyjwt.decode` (import jwt as pyjwt) and
// `verify` (import { verify } from 'jsonwebtoken') are recognised, and whether a file imports an MCP server library.
// Also each module's interface for cross-file analysis: its bindings (local name → module and member), re-exports,
// export aliases and top-level definitions, which `Program` follows to the definition a name stands for.
import { descendants, stringValue } from './context.ts';
import type { Family, Node } from './parser.ts';
import { isMcpNpmSpecifier, MCP_PYTHON_MODULES, normaliseSpecifier } from './project.ts';

export interface Imports {
  /** local name → dotted qualified name, e.g. `jwt` → `jose.jwt`, `verify` → `jsonwebtoken.verify`. */
  names: Map<string, string>;
  /** Every imported module / specifier. */
  modules: Set<string>;
  /** local name → the module specifier it comes from and the member (undefined: the module itself). */
  bindings: Map<string, Binding>;
  /** `export … from` / Python `from .x import *`: names this module re-exports from another (`*`: all of them). */
  reexports: { module: string; names: Map<string, string> | '*' }[];
  /** Exported name → local name (`export { a as b }`, `export default foo`, `module.exports = { a }`). */
  exportAliases: Map<string, string>;
  /** Names defined at the top level (functions, classes, variables). */
  defines: Set<string>;
}

export interface Binding {
  module: string;
  name?: string;
}

const PY_IMPORTS = new Set(['import_statement', 'import_from_statement', 'future_import_statement']);
const DYNAMIC_IMPORT = new Set(['importlib.import_module', 'import_module']);
const JS_IMPORTS = new Set(['import_statement', 'call_expression']);


export function collectImports(root: Node, family: Family): Imports {
  return family === 'python' ? pythonImports(root) : jsImports(root);
}

export function emptyImports(): Imports {
  return { names: new Map(), modules: new Set(), bindings: new Map(), reexports: [], exportAliases: new Map(), defines: new Set() };
}

function pythonImports(root: Node): Imports {
  const out = emptyImports();
  const { names, modules, bindings } = out;
  for (const stmt of descendants(root, PY_IMPORTS)) {
    if (stmt.type === 'import_statement') {
      for (const item of stmt.childrenForFieldName('name')) {
        if (!item) continue;
        if (item.type === 'aliased_import') {
          const mod = item.childForFieldName('name')!.text;
          modules.add(mod);
          names.set(item.childForFieldName('alias')!.text, mod);
          bindings.set(item.childForFieldName('alias')!.text, { module: mod });
        } else {
          modules.add(item.text);
          const top = item.text.split('.')[0]!;
          names.set(top, top);
          bindings.set(top, { module: top });
        }
      }
    } else if (stmt.type === 'import_from_statement') {
      const mod = stmt.childForFieldName('module_name')?.text ?? '';
      modules.add(mod);
      if (stmt.namedChildren.some((c) => c?.type === 'wildcard_import')) out.reexports.push({ module: mod, names: '*' });
      for (const item of stmt.childrenForFieldName('name')) {
        if (!item) continue;
        const member = item.type === 'aliased_import' ? item.childForFieldName('name')!.text : item.text;
        const local = item.type === 'aliased_import' ? item.childForFieldName('alias')!.text : item.text;
        names.set(local, mod.endsWith('.') ? `${mod}${member}` : `${mod}.${member}`);
        bindings.set(local, { module: mod, name: member });
      }
    }
  }
  // `jose = importlib.import_module("authlib.jose")` (an import deferred to run time) binds like `import authlib.jose as
  // jose`; so does a member of it given a name, `JsonWebToken = jose.JsonWebToken`.
  const dynamic = new Set<string>();
  for (const a of root.descendantsOfType('assignment')) {
    const left = a?.childForFieldName('left');
    const right = a?.childForFieldName('right');
    if (left?.type !== 'identifier' || !right) continue;
    if (right.type === 'call' && DYNAMIC_IMPORT.has(right.childForFieldName('function')?.text ?? '')) {
      const mod = stringValue(right.childForFieldName('arguments')?.namedChildren[0]);
      if (!mod) continue;
      modules.add(mod);
      names.set(left.text, mod);
      bindings.set(left.text, { module: mod });
      dynamic.add(left.text);
    } else if (right.type === 'attribute' && dynamic.has(right.childForFieldName('object')!.text)) {
      const mod = bindings.get(right.childForFieldName('object')!.text)!.module;
      const member = right.childForFieldName('attribute')!.text;
      names.set(left.text, `${mod}.${member}`);
      bindings.set(left.text, { module: mod, name: member });
    }
  }
  for (const stmt of root.namedChildren) {
    if (!stmt) continue;
    const def = stmt.type === 'decorated_definition' ? stmt.childForFieldName('definition') : stmt;
    if (def?.type === 'function_definition' || def?.type === 'class_definition') {
      const n = def.childForFieldName('name')?.text;
      if (n) out.defines.add(n);
    } else if (stmt.type === 'expression_statement') {
      const a = stmt.namedChildren[0];
      const left = a?.type === 'assignment' ? a.childForFieldName('left') : undefined;
      if (left?.type === 'identifier') out.defines.add(left.text);
    }
  }
  return out;
}

function jsImports(root: Node): Imports {
  const out = emptyImports();
  const { names, modules, bindings } = out;
  for (const node of descendants(root, JS_IMPORTS)) {
    if (node.type === 'import_statement') {
      const spec = stringValue(node.childForFieldName('source'));
      if (spec === undefined) continue;
      const mod = normaliseSpecifier(spec);
      modules.add(mod);
      const clause = node.namedChildren.find((c) => c?.type === 'import_clause');
      if (!clause) continue;
      for (const part of clause.namedChildren) {
        if (!part) continue;
        if (part.type === 'identifier') {
          names.set(part.text, mod);
          bindings.set(part.text, { module: mod, name: 'default' });
        } else if (part.type === 'namespace_import') {
          const id = part.namedChildren.find((c) => c?.type === 'identifier');
          if (id) {
            names.set(id.text, mod);
            bindings.set(id.text, { module: mod });
          }
        } else if (part.type === 'named_imports') {
          for (const spec of part.namedChildren) {
            if (spec?.type !== 'import_specifier') continue;
            const name = spec.childForFieldName('name')!.text;
            const alias = spec.childForFieldName('alias')?.text ?? name;
            names.set(alias, `${mod}.${name}`);
            bindings.set(alias, { module: mod, name });
          }
        }
      }
    } else {
      // require('x') / await import('x'), bound by `const a = require(...)` or `const { b } = require(...)`.
      const fn = node.childForFieldName('function');
      if (!fn || (fn.text !== 'require' && fn.type !== 'import')) continue;
      // (Past a bundler's hint, `import(/* webpackIgnore: true */ name)`.)
      const arg = node.childForFieldName('arguments')?.namedChildren.find((a) => a?.type !== 'comment');
      // (…also through a name for the specifier, `const packageName = "@acme/sdk"; await import(packageName)`.)
      const spec = stringValue(arg) ?? (arg?.type === 'identifier' && fn.type === 'import' ? constantString(root, arg.text) : undefined);
      if (spec === undefined) continue;
      const mod = normaliseSpecifier(spec);
      modules.add(mod);
      let decl: Node | null = node.parent;
      for (;;) {
        if (decl && (decl.type === 'await_expression' || decl.type === 'parenthesized_expression')) decl = decl.parent;
        // CommonJS interop as compilers emit it: `const jwt = __importStar(require("jsonwebtoken"))` (tsc),
        // `__toESM(require(…))` (esbuild), `_interopRequireDefault(require(…))` (Babel).
        else if (decl?.type === 'arguments' && INTEROP_HELPERS.test(decl.parent?.childForFieldName('function')?.text ?? '')) decl = decl.parent!.parent;
        else break;
      }
      if (decl?.type !== 'variable_declarator') continue;
      const target = decl.childForFieldName('name');
      if (target?.type === 'identifier') {
        names.set(target.text, mod);
        bindings.set(target.text, { module: mod });
      } else if (target?.type === 'object_pattern') {
        for (const p of target.namedChildren) {
          if (p?.type === 'shorthand_property_identifier_pattern') {
            names.set(p.text, `${mod}.${p.text}`);
            bindings.set(p.text, { module: mod, name: p.text });
          } else if (p?.type === 'pair_pattern') {
            const key = p.childForFieldName('key')?.text;
            const value = p.childForFieldName('value');
            if (key && value?.type === 'identifier') {
              names.set(value.text, `${mod}.${key}`);
              bindings.set(value.text, { module: mod, name: key });
            }
          }
        }
      }
    }
  }
  jsModuleInterface(root, out);
  return out;
}

/** The string a `const` of the file binds `name` to, when exactly one does. */
function constantString(root: Node, name: string): string | undefined {
  const values = root.descendantsOfType('variable_declarator').filter((d) => d?.childForFieldName('name')?.text === name && d.parent?.childForFieldName('kind')?.text === 'const');
  return values.length === 1 ? stringValue(values[0]!.childForFieldName('value')) : undefined;
}

/** Helpers that wrap `require(…)` for ES-module interop; what they return is the module. */
const INTEROP_HELPERS = /^(?:[\w$]+\.)?(?:__importStar|__importDefault|__toESM|_interopRequireDefault|_interopRequireWildcard)$/;

const JS_DECLARATIONS = new Set(['function_declaration', 'generator_function_declaration', 'class_declaration', 'abstract_class_declaration']);

/** Top-level definitions, `export … from` re-exports, export aliases and CommonJS `module.exports` / `exports.x`. */
function jsModuleInterface(root: Node, out: Imports): void {
  const define = (decl: Node) => {
    if (JS_DECLARATIONS.has(decl.type)) {
      const n = decl.childForFieldName('name')?.text;
      if (n) out.defines.add(n);
    } else if (decl.type === 'lexical_declaration' || decl.type === 'variable_declaration') {
      for (const d of decl.namedChildren) {
        const n = d?.type === 'variable_declarator' ? d.childForFieldName('name') : undefined;
        if (n?.type === 'identifier') out.defines.add(n.text);
      }
    }
  };
  for (const stmt of root.namedChildren) {
    if (!stmt) continue;
    if (stmt.type !== 'export_statement') {
      define(stmt);
      if (stmt.type === 'expression_statement') commonJsExport(stmt.namedChildren[0], out);
      continue;
    }
    const src = stringValue(stmt.childForFieldName('source'));
    const decl = stmt.childForFieldName('declaration');
    const value = stmt.childForFieldName('value');
    const isDefault = stmt.children.some((c) => c?.type === 'default');
    if (decl) {
      define(decl);
      const n = decl.childForFieldName('name')?.text;
      if (isDefault && n) out.exportAliases.set('default', n);
      continue;
    }
    if (value && isDefault) {
      if (value.type === 'identifier') out.exportAliases.set('default', value.text);
      continue;
    }
    const clause = stmt.namedChildren.find((c) => c?.type === 'export_clause');
    if (src !== undefined) {
      const mod = normaliseSpecifier(src);
      out.modules.add(mod);
      if (!clause) {
        const ns = stmt.namedChildren.find((c) => c?.type === 'namespace_export');
        if (ns) out.bindings.set(ns.namedChildren[0]?.text ?? '', { module: mod });
        else out.reexports.push({ module: mod, names: '*' });
        continue;
      }
      const names = new Map<string, string>();
      for (const spec of clause.namedChildren) {
        if (spec?.type !== 'export_specifier') continue;
        const name = spec.childForFieldName('name')!.text;
        names.set(spec.childForFieldName('alias')?.text ?? name, name);
      }
      out.reexports.push({ module: mod, names });
    } else if (clause) {
      for (const spec of clause.namedChildren) {
        if (spec?.type !== 'export_specifier') continue;
        const name = spec.childForFieldName('name')!.text;
        out.exportAliases.set(spec.childForFieldName('alias')?.text ?? name, name);
      }
    }
  }
}

function commonJsExport(expr: Node | null | undefined, out: Imports): void {
  if (expr?.type !== 'assignment_expression') return;
  const left = expr.childForFieldName('left')?.text.replace(/\s+/g, '');
  const right = expr.childForFieldName('right');
  if (!left || !right) return;
  if (left === 'module.exports') {
    if (right.type === 'identifier') out.exportAliases.set('default', right.text);
    else if (right.type === 'object') {
      for (const c of right.namedChildren) {
        if (c?.type === 'shorthand_property_identifier') out.exportAliases.set(c.text, c.text);
        else if (c?.type === 'pair' && c.childForFieldName('value')?.type === 'identifier') {
          out.exportAliases.set(c.childForFieldName('key')!.text, c.childForFieldName('value')!.text);
        }
      }
    }
  } else {
    const m = /^(?:module\.)?exports\.([A-Za-z_$][\w$]*)$/.exec(left);
    if (m && right.type === 'identifier') out.exportAliases.set(m[1]!, right.text);
  }
}

/**
 * FastMCP's OAuth proxies (`OAuthProxy`, `OIDCProxy` and the providers built on them): the MCP client holds a token
 * FastMCP issued, and `get_access_token()` hands the tools the upstream provider's token the server keeps, not the
 * caller's credential.
 */
const FASTMCP_TOKEN_PROXIES = new Set([
  'OAuthProxy', 'OIDCProxy', 'GitHubProvider', 'GoogleProvider', 'AzureProvider', 'Auth0Provider', 'AWSCognitoProvider',
  'WorkOSProvider', 'DiscordProvider',
]);

export function importsTokenProxy(imports: Imports, family: Family, source = ''): 'proxy' | 'verifier' | undefined {
  if (family !== 'python') return undefined;
  let proxy = false;
  let verifier = false;
  for (const q of imports.names.values()) {
    if (!q.startsWith('fastmcp.')) continue;
    const name = q.split('.').pop()!;
    // The base class of a project's own verifier, or one of FastMCP's (`GoogleTokenVerifier`, `GitHubTokenVerifier`,
    // `IntrospectionTokenVerifier`; not `StaticTokenVerifier`, whose tokens are the server's own configured keys):
    // some server of the project accepts the caller's token as is…
    if (name.endsWith('TokenVerifier') && name !== 'StaticTokenVerifier') verifier = true;
    if (FASTMCP_TOKEN_PROXIES.has(name)) proxy = true;
  }
  // …unless it is the verifier the proxy checks the upstream provider's tokens with (`OAuthProxy(token_verifier=…)`).
  // A proxy combined with verifiers of tokens the caller brings (`MultiAuth(server=oauth, verifiers=[ApiKeyVerifier()])`)
  // accepts those as they are, too.
  if (verifier && (!(proxy && /\btoken_verifier\s*=/.test(source)) || (/\bMultiAuth\s*\(/.test(source) && /\bverifiers\s*=/.test(source)))) return 'verifier';
  return proxy ? 'proxy' : undefined;
}

export function importsMcp(imports: Imports, family: Family): boolean {
  for (const mod of imports.modules) {
    if (family === 'python' ? MCP_PYTHON_MODULES.has(mod.split('.')[0]!) : isMcpNpmSpecifier(mod)) return true;
  }
  return false;
}

/**
 * A file that speaks MCP's JSON-RPC without an SDK (a hand-written `tools/call` / `tools/list` dispatcher behind a
 * serverless handler), or routes `/mcp` to relay it: it serves MCP as much as one that imports the SDK.
 */
export function speaksMcpByHand(source: string): boolean {
  // (also a module of method-name constants, `MCP_TOOL_CALL = "tools/call"` beside `"tools/list"`, as gateways keep them)
  if (/["'`]tools\/call["'`]/.test(source) && (/["'`]tools\/list["'`]/.test(source) || (/["'`]initialize["'`]/.test(source) && /jsonrpc/.test(source)))) return true;
  // …or a handler that routes the `/mcp` path itself (`if (url.pathname === "/mcp")`, `app.all("/mcp", …)`) and
  // relays it to a remote MCP server: a proxy serves MCP to its callers as much as a server does.
  return /(?:===?|\(|case)\s*["'`]\/mcp\/?["'`]/.test(source);
}

/**
 * The dotted name an expression stands for, with its first identifier replaced through the import table:
 * `pyjwt.decode` → `jwt.decode`; `jose.jwtVerify` → `jose.jwtVerify`. Undefined for anything but a name chain.
 */
/**
 * The function a compiled call really calls: `(0, m_1.f)` (how tsc and Babel call an imported function, without a
 * `this`) is `m_1.f`; `await (0, f)`, which tree-sitter reads as a call of `await` with the arguments `(0, f)`, is `f`.
 * Undefined for anything else.
 */
export function indirectCallee(n: Node): Node | undefined {
  const parts = n.type === 'sequence_expression' ? n.namedChildren
    : n.type === 'call_expression' && n.childForFieldName('function')?.text === 'await' ? n.childForFieldName('arguments')?.namedChildren.filter((a) => a?.type !== 'comment') ?? []
    : [];
  return parts.length === 2 && parts[0]?.type === 'number' ? parts[1] ?? undefined : undefined;
}

export function qualify(node: Node | null | undefined, imports: Imports): string | undefined {
  const parts: string[] = [];
  let n = node;
  while (n) {
    if (n.type === 'identifier') {
      parts.unshift(imports.names.get(n.text) ?? n.text);
      return parts.join('.');
    }
    if (n.type === 'attribute') {
      parts.unshift(n.childForFieldName('attribute')!.text);
      n = n.childForFieldName('object');
    } else if (n.type === 'member_expression') {
      parts.unshift(n.childForFieldName('property')!.text);
      n = n.childForFieldName('object');
    } else if (n.type === 'parenthesized_expression' || n.type === 'non_null_expression' || n.type === 'await_expression') {
      // `await f<T>(x)` parses as a call of `await f` (tree-sitter-typescript): the callee is still `f`.
      n = n.namedChildren[0];
    } else {
      // `(0, jsonwebtoken_1.verify)(…)`, `await (0, f)(…)`: compiled calls of an import.
      const inner = indirectCallee(n);
      if (!inner) return undefined;
      n = inner;
    }
  }
  return undefined;
}
