// Import tables: which local name stands for which module member, so `pyjwt.decode` (import jwt as pyjwt) and
// `verify` (import { verify } from 'jsonwebtoken') are recognised, and whether a file imports an MCP server library.
import { descendants, stringValue } from './context.ts';
import type { Family, Node } from './parser.ts';
import { isMcpNpmSpecifier, MCP_PYTHON_MODULES } from './project.ts';

export interface Imports {
  /** local name → dotted qualified name, e.g. `jwt` → `jose.jwt`, `verify` → `jsonwebtoken.verify`. */
  names: Map<string, string>;
  /** Every imported module / specifier. */
  modules: Set<string>;
}

const PY_IMPORTS = new Set(['import_statement', 'import_from_statement', 'future_import_statement']);
const JS_IMPORTS = new Set(['import_statement', 'call_expression']);

export function collectImports(root: Node, family: Family): Imports {
  return family === 'python' ? pythonImports(root) : jsImports(root);
}

function pythonImports(root: Node): Imports {
  const names = new Map<string, string>();
  const modules = new Set<string>();
  for (const stmt of descendants(root, PY_IMPORTS)) {
    if (stmt.type === 'import_statement') {
      for (const item of stmt.childrenForFieldName('name')) {
        if (!item) continue;
        if (item.type === 'aliased_import') {
          const mod = item.childForFieldName('name')!.text;
          modules.add(mod);
          names.set(item.childForFieldName('alias')!.text, mod);
        } else {
          modules.add(item.text);
          const top = item.text.split('.')[0]!;
          names.set(top, top);
        }
      }
    } else if (stmt.type === 'import_from_statement') {
      const mod = stmt.childForFieldName('module_name')?.text ?? '';
      modules.add(mod);
      for (const item of stmt.childrenForFieldName('name')) {
        if (!item) continue;
        if (item.type === 'aliased_import') {
          names.set(item.childForFieldName('alias')!.text, `${mod}.${item.childForFieldName('name')!.text}`);
        } else {
          names.set(item.text, `${mod}.${item.text}`);
        }
      }
    }
  }
  return { names, modules };
}

function normaliseSpecifier(spec: string): string {
  return spec.startsWith('node:') ? spec.slice(5) : spec;
}

function jsImports(root: Node): Imports {
  const names = new Map<string, string>();
  const modules = new Set<string>();
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
        if (part.type === 'identifier') names.set(part.text, mod);
        else if (part.type === 'namespace_import') {
          const id = part.namedChildren.find((c) => c?.type === 'identifier');
          if (id) names.set(id.text, mod);
        } else if (part.type === 'named_imports') {
          for (const spec of part.namedChildren) {
            if (spec?.type !== 'import_specifier') continue;
            const name = spec.childForFieldName('name')!.text;
            const alias = spec.childForFieldName('alias')?.text ?? name;
            names.set(alias, `${mod}.${name}`);
          }
        }
      }
    } else {
      // require('x') / await import('x'), bound by `const a = require(...)` or `const { b } = require(...)`.
      const fn = node.childForFieldName('function');
      if (!fn || (fn.text !== 'require' && fn.type !== 'import')) continue;
      const spec = stringValue(node.childForFieldName('arguments')?.namedChildren[0]);
      if (spec === undefined) continue;
      const mod = normaliseSpecifier(spec);
      modules.add(mod);
      let decl: Node | null = node.parent;
      while (decl && (decl.type === 'await_expression' || decl.type === 'parenthesized_expression')) decl = decl.parent;
      if (decl?.type !== 'variable_declarator') continue;
      const target = decl.childForFieldName('name');
      if (target?.type === 'identifier') names.set(target.text, mod);
      else if (target?.type === 'object_pattern') {
        for (const p of target.namedChildren) {
          if (p?.type === 'shorthand_property_identifier_pattern') names.set(p.text, `${mod}.${p.text}`);
          else if (p?.type === 'pair_pattern') {
            const key = p.childForFieldName('key')?.text;
            const value = p.childForFieldName('value');
            if (key && value?.type === 'identifier') names.set(value.text, `${mod}.${key}`);
          }
        }
      }
    }
  }
  return { names, modules };
}

export function importsMcp(imports: Imports, family: Family): boolean {
  for (const mod of imports.modules) {
    if (family === 'python' ? MCP_PYTHON_MODULES.has(mod.split('.')[0]!) : isMcpNpmSpecifier(mod)) return true;
  }
  return false;
}

/**
 * The dotted name an expression stands for, with its first identifier replaced through the import table:
 * `pyjwt.decode` → `jwt.decode`; `jose.jwtVerify` → `jose.jwtVerify`. Undefined for anything but a name chain.
 */
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
    } else if (n.type === 'parenthesized_expression' || n.type === 'non_null_expression') {
      n = n.namedChildren[0];
    } else {
      return undefined;
    }
  }
  return undefined;
}
