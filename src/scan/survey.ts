// Pass 1 of a scan, for one file: read it, parse it, run the per-file checks (the JWT rule's calls, imports, settings,
// whether it serves MCP) and keep, as plain data, what the project-wide decisions and the cross-file pass need. Plain
// data so that files can be surveyed in worker threads (see survey-pool.ts) and merged in order on the main thread.
import { readFile, stat } from 'node:fs/promises';
import type { FileContext } from './context.ts';
import type { LanguageId } from './parser.ts';
import { collectImports, importsMcp, importsTokenProxy, speaksMcpByHand, type Imports } from './imports.ts';
import { familyOf, firstSyntaxError, parse } from './parser.ts';
import { audienceCheckingCallers, checkJwtNoAudience, checksAudienceInCode, claimsWrappers, settingsEmptyByDefault, settingsOnByDefault, settingsRequired, type JwtFinding } from './rules/jwt-no-audience.ts';

export interface Survey {
  /** Where tree-sitter first failed (it recovers around the error; the rest of the file is still checked). */
  syntaxError?: { line: number; column: number };
  imports: Imports;
  jwt: JwtFinding[];
  /** The fewest arguments each verifier-like function is called with here (see `checkJwtNoAudience`). */
  arities: [string, number][];
  /** Python settings declared on by default, audience settings empty by default, and those required before use. */
  settingsOn: string[];
  settingsEmpty: string[];
  settingsNeeded: string[];
  /** Functions called by a function that checks `aud` by hand (see `audienceCheckingCallers`). */
  audienceCallees: string[];
  /** Function → a function whose result it returns (see `claimsWrappers`). */
  wrappers: [string, string][];
  /** The file imports an MCP server library or speaks the protocol by hand. */
  servesMcp: boolean;
  tokenProxy?: 'proxy' | 'verifier';
}

/** Read and survey one file; `skipped` says why a file is not scanned. */
export async function surveyFile(abs: string, shown: string, language: LanguageId, maxBytes: number): Promise<Survey | { skipped: string }> {
  const text = await readSource(abs, maxBytes);
  return typeof text === 'string' ? survey(shown, language, text) : text;
}

export async function survey(shown: string, language: LanguageId, text: string): Promise<Survey> {
  const tree = await parse(language, text);
  try {
    const family = familyOf(language);
    const ctx: FileContext = { file: shown, source: text, tree, language, family };
    const bad = firstSyntaxError(tree);
    const imports = collectImports(tree.rootNode, family);
    const arities = new Map<string, number>();
    const jwt = checkJwtNoAudience(ctx, imports, arities);
    const python = family === 'python';
    return {
      syntaxError: bad ? { line: bad.startPosition.row + 1, column: bad.startPosition.column + 1 } : undefined,
      imports,
      jwt,
      arities: [...arities],
      settingsOn: python ? settingsOnByDefault(text) : [],
      settingsEmpty: python ? settingsEmptyByDefault(text).map((n) => n.toLowerCase()) : [],
      settingsNeeded: python ? settingsRequired(text).map((n) => n.toLowerCase()) : [],
      audienceCallees: checksAudienceInCode(text) ? [...audienceCheckingCallers(ctx)] : [],
      wrappers: [...claimsWrappers(ctx)],
      servesMcp: importsMcp(imports, family) || speaksMcpByHand(text),
      tokenProxy: importsTokenProxy(imports, family, text),
    };
  } finally {
    tree.delete();
  }
}

const MINIFIED_LINE = 5000;

/** The file's text, or why it is skipped: too large, binary (a NUL byte), or minified (very long lines). */
export async function readSource(abs: string, maxBytes: number): Promise<string | { skipped: string }> {
  const info = await stat(abs);
  if (info.size > maxBytes) return { skipped: `skipped: larger than ${maxBytes} bytes` };
  const bytes = await readFile(abs);
  if (bytes.subarray(0, 8192).includes(0)) return { skipped: 'skipped: binary file' };
  const text = bytes.toString('utf8');
  let lineStart = 0;
  let longest = 0;
  let lines = 1;
  for (let i = text.indexOf('\n'); ; i = text.indexOf('\n', i + 1)) {
    const end = i < 0 ? text.length : i;
    longest = Math.max(longest, end - lineStart);
    if (i < 0) break;
    lineStart = i + 1;
    lines++;
  }
  if (longest > MINIFIED_LINE && text.length / lines > 500) {
    return { skipped: `skipped: minified or generated (a line of ${longest} characters)` };
  }
  return text;
}
