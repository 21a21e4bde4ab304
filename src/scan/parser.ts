// web-tree-sitter set-up: the runtime is initialised once and each grammar is loaded (and given its own Parser) on
// first use, because loading a WASM grammar costs tens of milliseconds and a scan may never need some languages.
import { createRequire } from 'node:module';
import { Language, Parser, type Node, type Tree } from 'web-tree-sitter';

export type LanguageId = 'python' | 'typescript' | 'tsx' | 'javascript';
export type Family = 'python' | 'javascript';

export type { Node, Tree };

const require = createRequire(import.meta.url);

const GRAMMARS: Record<LanguageId, string> = {
  python: 'tree-sitter-python/tree-sitter-python.wasm',
  typescript: 'tree-sitter-typescript/tree-sitter-typescript.wasm',
  tsx: 'tree-sitter-typescript/tree-sitter-tsx.wasm',
  javascript: 'tree-sitter-javascript/tree-sitter-javascript.wasm',
};

const EXTENSIONS: Record<string, LanguageId> = {
  '.py': 'python',
  '.pyi': 'python',
  '.ts': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
  '.tsx': 'tsx',
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.jsx': 'javascript',
};

/** The grammar for a file name, or undefined when the scanner does not handle it. Declaration files hold no code. */
export function languageFor(fileName: string): LanguageId | undefined {
  if (/\.d\.[cm]?ts$/.test(fileName)) return undefined;
  const dot = fileName.lastIndexOf('.');
  return dot < 0 ? undefined : EXTENSIONS[fileName.slice(dot).toLowerCase()];
}

export function familyOf(language: LanguageId): Family {
  return language === 'python' ? 'python' : 'javascript';
}

let runtime: Promise<void> | undefined;
const parsers = new Map<LanguageId, Promise<Parser>>();

async function parserFor(language: LanguageId): Promise<Parser> {
  runtime ??= Parser.init();
  await runtime;
  let parser = parsers.get(language);
  if (!parser) {
    parser = (async () => {
      const lang = await Language.load(require.resolve(GRAMMARS[language]));
      const p = new Parser();
      p.setLanguage(lang);
      return p;
    })();
    parsers.set(language, parser);
  }
  return parser;
}

/** Parses source text. The caller must `tree.delete()` when done (trees live in WASM memory). */
export async function parse(language: LanguageId, source: string): Promise<Tree> {
  const parser = await parserFor(language);
  const tree = parser.parse(source);
  if (!tree) throw new Error(`tree-sitter returned no tree for ${language}`);
  return tree;
}

/** The first syntax error in a tree (an ERROR or MISSING node), for reporting. */
export function firstSyntaxError(tree: Tree): Node | undefined {
  if (!tree.rootNode.hasError) return undefined;
  const stack: Node[] = [tree.rootNode];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.isError || node.isMissing) return node;
    if (!node.hasError) continue;
    const children = node.children;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child) stack.push(child);
    }
  }
  return tree.rootNode;
}
