// What a rule gets for one file, plus the helpers every rule needs (positions, snippets, findings).
import type { Finding, Level } from './finding.ts';
import type { Family, LanguageId, Node, Tree } from './parser.ts';

export interface FileContext {
  /** Display path (relative to the working directory, forward slashes). */
  file: string;
  source: string;
  tree: Tree;
  language: LanguageId;
  family: Family;
}

const SNIPPET_MAX_LINES = 6;
const SNIPPET_MAX_CHARS = 400;

export function snippetOf(node: Node): string {
  let text = node.text;
  const lines = text.split('\n');
  if (lines.length > SNIPPET_MAX_LINES) text = lines.slice(0, SNIPPET_MAX_LINES).join('\n') + '\n…';
  if (text.length > SNIPPET_MAX_CHARS) text = text.slice(0, SNIPPET_MAX_CHARS) + '…';
  return text;
}

/** A name (an identifier, a dotted setting) quoted to stand for itself in a RegExp source. */
export function reQuote(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One-line summary of a node's text for messages. */
export function shortText(node: Node, max = 60): string {
  const flat = node.text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

export function makeFinding(ctx: FileContext, ruleId: string, level: Level, node: Node, message: string, fix: string): Finding {
  // tree-sitter positions are 0-based rows and UTF-16 columns here; SARIF wants 1-based, end column exclusive.
  return {
    ruleId,
    level,
    message,
    file: ctx.file,
    line: node.startPosition.row + 1,
    column: node.startPosition.column + 1,
    endLine: node.endPosition.row + 1,
    endColumn: node.endPosition.column + 1,
    snippet: snippetOf(node),
    fix,
  };
}

/** Function nodes of both grammars (Python `function_definition`, the JavaScript/TypeScript kinds). */
export const FUNCTION_TYPES: ReadonlySet<string> = new Set(['function_definition', 'function_declaration', 'generator_function_declaration', 'function_expression', 'arrow_function', 'method_definition', 'function']);

/** The function (or method) a node is inside, in either grammar. */
export function enclosingFunction(node: Node): Node | null {
  let fn = node.parent;
  while (fn && !FUNCTION_TYPES.has(fn.type)) fn = fn.parent;
  return fn;
}

/** A function's name: its own, or the name it is bound to (`const f = () => …`, `{ f: () => … }`, `x.f = function …`). */
export function functionName(fn: Node): string | undefined {
  const own = fn.childForFieldName('name')?.text;
  if (own) return own;
  const p = fn.parent;
  if (p?.type === 'variable_declarator') return p.childForFieldName('name')?.text;
  if (p?.type === 'pair') return stringValue(p.childForFieldName('key')) ?? p.childForFieldName('key')?.text;
  if (p?.type === 'assignment_expression') return p.childForFieldName('left')?.text.split('.').at(-1);
  return undefined;
}

/** All descendants of the given types (the root included), in source order. Runs inside WASM: far faster than walking. */
export function descendants(root: Node, types: ReadonlySet<string>): Node[] {
  const found = root.descendantsOfType([...types]).filter((n): n is Node => !!n);
  return types.has(root.type) && !found.some((n) => n.id === root.id) ? [root, ...found] : found;
}

/** HTTP client programs: a credential on their command line goes out in the request they make. */
const HTTP_CLIS = /^(?:[\w.-]*\/)*(curl|wget|http|https|xh)$/;

/**
 * The HTTP client program a command runs (`["curl", "-H", …]`, `f"curl -H 'Authorization: …'"`, `'curl'` before its
 * arguments), from the literal naming it, or undefined.
 */
export function httpCliProgram(node: Node | null | undefined): string | undefined {
  if (node?.type === 'list' || node?.type === 'array') return httpCliProgram(node.namedChildren.find((c) => c?.type !== 'comment'));
  const program = node && /^[rbfuRBFU]*(?:"""|'''|["'`])\s*([^\s"'`]+)/.exec(node.text)?.[1];
  return program ? HTTP_CLIS.exec(program)?.[1] : undefined;
}

/** The value of a plain string literal (no interpolation), or undefined. */
export function stringValue(node: Node | null | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === 'string') {
    // Python: string_start string_content string_end; JS: string_fragment between quotes.
    if (node.namedChildren.some((c) => c?.type === 'interpolation')) return undefined;
    const parts = node.namedChildren.filter((c) => c?.type === 'string_content' || c?.type === 'string_fragment');
    if (parts.length) return parts.map((c) => c!.text).join('');
    return '';
  }
  if (node.type === 'template_string' && !node.namedChildren.some((c) => c?.type === 'template_substitution')) {
    return node.namedChildren.filter((c) => c?.type === 'string_fragment').map((c) => c!.text).join('');
  }
  return undefined;
}
