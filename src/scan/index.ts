// `scanPaths`: the scanner's public entry point, used by `deputy scan` and reusable by other commands.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileContext } from './context.ts';
import { compareFindings, type Finding, type RuleMeta, type ScanError } from './finding.ts';
import { collectFiles } from './files.ts';
import { collectImports, importsMcp } from './imports.ts';
import { familyOf, firstSyntaxError, parse } from './parser.ts';
import { ProjectIndex, type Project } from './project.ts';
import { authorizationPassthrough, checkAuthorizationPassthrough } from './rules/authorization-passthrough.ts';
import { checkJwtNoAudience, jwtNoAudience } from './rules/jwt-no-audience.ts';

export type { Finding, Level, RuleMeta, ScanError } from './finding.ts';
export { formatText } from './report/text.ts';
export { formatJson } from './report/json.ts';
export { toSarif } from './report/sarif.ts';

export const RULES: readonly RuleMeta[] = [authorizationPassthrough, jwtNoAudience];

export interface ScanOptions {
  /** Honour .gitignore files (default true). */
  gitignore?: boolean;
  /** Project-level MCP gating of `authorization-passthrough` (default true); false scans every file for it. */
  mcpGate?: boolean;
  /** Files larger than this are skipped and reported (default 2 MiB: generated bundles, not hand-written servers). */
  maxFileBytes?: number;
  /** Directory paths are reported relative to (default: process.cwd()). */
  cwd?: string;
  /** Progress callback, called after each file. */
  onProgress?: (done: number, total: number, file: string) => void;
}

export interface ScanResult {
  findings: Finding[];
  filesScanned: number;
  errors: ScanError[];
  durationMs: number;
}

export async function scanPaths(paths: readonly string[], options: ScanOptions = {}): Promise<ScanResult> {
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const display = (abs: string) => {
    const rel = path.relative(cwd, abs);
    return (rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel).split(path.sep).join('/');
  };
  const errors: ScanError[] = [];
  const files = await collectFiles(paths, {
    gitignore: options.gitignore,
    onError: (abs, message, kind) => errors.push({ kind, file: display(abs), message }),
  });
  const maxBytes = options.maxFileBytes ?? 2 * 1024 * 1024;
  const projects = new ProjectIndex();
  const mcpProjects = new Set<Project>();
  const findings: Finding[] = [];
  const pending: { project: Project; findings: Finding[] }[] = [];
  let scanned = 0;

  for (const [i, file] of files.entries()) {
    const shown = display(file.abs);
    try {
      const info = await stat(file.abs);
      if (info.size > maxBytes) {
        errors.push({ kind: 'skipped', file: shown, message: `skipped: larger than ${maxBytes} bytes` });
        continue;
      }
      const source = await readFile(file.abs, 'utf8');
      const tree = await parse(file.language, source);
      try {
        const ctx: FileContext = { file: shown, source, tree, language: file.language, family: familyOf(file.language) };
        const bad = firstSyntaxError(tree);
        if (bad) {
          // tree-sitter recovers around the error; the rest of the file is still checked.
          errors.push({ kind: 'parse', file: shown, message: 'syntax error: the file was only partly scanned', line: bad.startPosition.row + 1, column: bad.startPosition.column + 1 });
        }
        const imports = collectImports(tree.rootNode, ctx.family);
        findings.push(...checkJwtNoAudience(ctx, imports));
        const project = await projects.projectOf(file.abs, file.scanRoot);
        if (project.declaresMcp || importsMcp(imports, ctx.family)) mcpProjects.add(project);
        pending.push({ project, findings: checkAuthorizationPassthrough(ctx, imports) });
        scanned++;
      } finally {
        tree.delete();
      }
    } catch (error) {
      errors.push({ kind: 'read', file: shown, message: `cannot scan: ${(error as Error).message}` });
    }
    options.onProgress?.(i + 1, files.length, shown);
  }
  // The MCP gate is decided once every file of a project has been seen (a helper module may precede the server).
  for (const p of pending) if (options.mcpGate === false || mcpProjects.has(p.project)) findings.push(...p.findings);
  findings.sort(compareFindings);
  errors.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { findings, filesScanned: scanned, errors, durationMs: Math.round(performance.now() - started) };
}
