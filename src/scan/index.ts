// `scanPaths`: the scanner's public entry point, used by `deputy scan` and reusable by other commands.
import path from 'node:path';
import type { FileContext } from './context.ts';
import { compareFindings, type Finding, type RuleMeta, type ScanError } from './finding.ts';
import { collectFiles, type SourceFile } from './files.ts';
import type { Imports } from './imports.ts';
import { familyOf, parse } from './parser.ts';
import { Program } from './program.ts';
import { ModuleResolver } from './resolve.ts';
import { ProjectIndex, type Project } from './project.ts';
import { authorizationPassthrough, checkAuthorizationPassthrough } from './rules/authorization-passthrough.ts';
import { jwtNoAudience, type JwtFinding } from './rules/jwt-no-audience.ts';
import { readSource } from './survey.ts';
import { readAhead, surveyAll } from './survey-pool.ts';

export type { Finding, Level, RuleMeta, ScanError } from './finding.ts';
export { formatText } from './report/text.ts';
export { formatJson } from './report/json.ts';
export { toSarif } from './report/sarif.ts';

export const RULES: readonly RuleMeta[] = [authorizationPassthrough, jwtNoAudience];

export interface ScanOptions {
  /** Honour .gitignore files (default true). */
  gitignore?: boolean;
  /** Also scan test files found in folders (`*.test.ts`, `test_*.py`, `tests/`…); default false. */
  tests?: boolean;
  /** Project-level MCP gating of `authorization-passthrough` (default true); false scans every file for it. */
  mcpGate?: boolean;
  /** Files larger than this are skipped and reported (default 2 MiB: generated bundles, not hand-written servers). */
  maxFileBytes?: number;
  /** Directory paths are reported relative to (default: process.cwd()). */
  cwd?: string;
  /**
   * Worker threads parsing files in the first pass (default: one per core, up to four, for scans of 400 files or more;
   * 1: none). Results do not depend on it.
   */
  threads?: number;
  /** Progress callback, called after each file: `parse` for every file, then `flow` for the cross-file pass. */
  onProgress?: (done: number, total: number, file: string, stage: 'parse' | 'flow') => void;
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
    tests: options.tests,
    gitignore: options.gitignore,
    onError: (abs, message, kind) => errors.push({ kind, file: display(abs), message }),
  });
  const maxBytes = options.maxFileBytes ?? 2 * 1024 * 1024;
  const projects = new ProjectIndex();
  const mcpProjects = new Set<Project>();
  const helpers: JwtFinding[] = [];
  /** `project root \0 function name` of functions called by a function that checks `aud` by hand. */
  const audienceCallees = new Set<string>();
  /** Per project root: the fewest arguments each verifier-like function is called with (see `checkJwtNoAudience`). */
  const arities = new Map<string, Map<string, number>>();
  /** `project root \0 function name` → the functions whose result it returns (see `claimsWrappers`). */
  const wrapped = new Map<string, Set<string>>();
  /** `project root \0 setting` of boolean settings declared on by default (see `settingsOnByDefault`). */
  const settingsOn = new Set<string>();
  /** `project root \0 setting` of audience settings declared empty by default (see `settingsEmptyByDefault`). */
  const settingsEmpty = new Set<string>();
  /** …and those some code of the project requires before use (see `settingsRequired`). */
  const settingsNeeded = new Set<string>();
  /** Projects behind a FastMCP OAuth proxy and without a token verifier of their own (see `importsTokenProxy`). */
  const proxyProjects = new Set<string>();
  const verifierProjects = new Set<string>();
  const findings: Finding[] = [];
  const parsed: Parsed[] = [];
  // Cross-file analysis runs over the MCP projects' files only, so dependency trees cost one parse each.
  const total = files.length;
  let done = 0;

  // Pass 1, every file: parse, the per-call JWT rule, imports, and which projects serve MCP (see survey.ts), merged
  // per project here in file order.
  await surveyAll(files, (i) => display(files[i]!.abs), maxBytes, async (index, result) => {
    const file = files[index]!;
    const shown = display(file.abs);
    if ('skipped' in result) errors.push({ kind: 'skipped', file: shown, message: result.skipped });
    else if ('error' in result) errors.push({ kind: 'read', file: shown, message: `cannot scan: ${result.error}` });
    else {
      if (result.syntaxError) errors.push({ kind: 'parse', file: shown, message: 'syntax error: the file was only partly scanned', ...result.syntaxError });
      const project = await projects.projectOf(file.abs, file.scanRoot);
      const at = (name: string) => `${project.root}\u0000${name}`;
      const counted = arities.get(project.root) ?? new Map<string, number>();
      arities.set(project.root, counted);
      for (const [name, n] of result.arities) counted.set(name, Math.min(n, counted.get(name) ?? n));
      for (const j of result.jwt) if (j.helper || j.gate || j.optional || j.emptySetting) helpers.push(j); else findings.push(j.finding);
      for (const name of result.settingsOn) settingsOn.add(at(name));
      for (const name of result.settingsEmpty) settingsEmpty.add(at(name));
      for (const name of result.settingsNeeded) settingsNeeded.add(at(name));
      for (const name of result.audienceCallees) audienceCallees.add(at(name));
      for (const [fn, callee] of result.wrappers) {
        if (!wrapped.has(at(fn))) wrapped.set(at(fn), new Set());
        wrapped.get(at(fn))!.add(callee);
      }
      if (project.declaresMcp || result.servesMcp) mcpProjects.add(project);
      if (result.tokenProxy === 'proxy') proxyProjects.add(project.root);
      if (result.tokenProxy === 'verifier') verifierProjects.add(project.root);
      parsed.push({ file, shown, project, imports: result.imports });
    }
    options.onProgress?.(++done, total, shown, 'parse');
  }, options.threads);

  // Pass 2, files of MCP projects: the passthrough taint analysis across files (the gate is decided once every file
  // of a project has been seen: a helper module may precede the server).
  // A verification helper that returns the claims is left to its callers when one that checks `aud` by hand calls it.
  const rootOf = new Map(parsed.map((p) => [p.shown, p.project.root]));
  // …and so is the helper of a wrapper such a caller calls (`claims = unpack(t)` where `unpack` returns `decode(t)`).
  for (const key of audienceCallees) {
    const root = key.slice(0, key.indexOf('\u0000'));
    // (Only to helpers named for a token: `verify` or `decode` alone names too many unrelated methods.)
    for (const callee of wrapped.get(key) ?? []) if (/jwt|token|claim/i.test(callee)) audienceCallees.add(`${root}\u0000${callee}`);
  }
  // A one-branch check whose setting the project declares on by default is the default: not reported.
  findings.push(...helpers.filter((j) => {
    const root = rootOf.get(j.finding.file) ?? '';
    // An optional audience parameter every call of the project passes is always given.
    const fewest = j.optional ? arities.get(root)?.get(j.optional.fn) : undefined;
    if (j.optional) return fewest === undefined || fewest <= j.optional.index;
    // An audience setting counts as missing only where the project's settings leave it empty by default.
    const setting = j.emptySetting && `${root}\u0000${j.emptySetting.toLowerCase()}`;
    if (setting) return settingsEmpty.has(setting) && !settingsNeeded.has(setting);
    return !(j.helper && audienceCallees.has(`${root}\u0000${j.helper}`)) && !(j.gate && settingsOn.has(`${root}\u0000${j.gate}`));
  }).map((j) => j.finding));
  includeImportedProjects(parsed, mcpProjects);
  const targets = parsed.filter((p) => options.mcpGate === false || mcpProjects.has(p.project));
  for (const root of verifierProjects) proxyProjects.delete(root);
  findings.push(...(await crossFile(targets, maxBytes, errors, proxyProjects, options.onProgress)));

  findings.sort(compareFindings);
  errors.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { findings: dedupe(findings), filesScanned: parsed.length, errors, durationMs: Math.round(performance.now() - started) };
}

/**
 * A package of the same repository that an MCP server imports (a workspace API client, a shared library) is part of
 * the server, whatever its own manifest declares: the projects its files belong to join the MCP projects.
 */
function includeImportedProjects(parsed: Parsed[], mcpProjects: Set<Project>): void {
  if (!mcpProjects.size) return;
  const resolver = new ModuleResolver(new Set(parsed.map((p) => p.file.abs)));
  const byAbs = new Map(parsed.map((p) => [p.file.abs, p]));
  const queue = parsed.filter((p) => mcpProjects.has(p.project));
  const seen = new Set(queue);
  while (queue.length) {
    const p = queue.pop()!;
    for (const mod of p.imports.modules) {
      const hit = resolver.resolve(p.file.abs, mod, familyOf(p.file.language));
      const dep = hit === undefined ? undefined : byAbs.get(hit);
      if (!dep || seen.has(dep)) continue;
      seen.add(dep);
      queue.push(dep);
      mcpProjects.add(dep.project);
    }
  }
}

interface Parsed {
  file: SourceFile;
  shown: string;
  project: Project;
  imports: Imports;
}

/** Rounds of re-analysis after the first: enough for chains of helpers across files, bounded for import cycles. */
const MAX_ROUNDS = 3;

/**
 * Analyses files dependencies first (so most summaries exist when a caller is analysed), then again any file whose
 * inputs (an imported summary, a storage cell) changed after it was analysed, until nothing changes or MAX_ROUNDS.
 */
async function crossFile(targets: Parsed[], maxBytes: number, errors: ScanError[], proxyProjects: ReadonlySet<string>, onProgress?: ScanOptions['onProgress']): Promise<Finding[]> {
  if (!targets.length) return [];
  const program = new Program(new Map(targets.map((t) => [t.shown, t.file.abs])));
  for (const root of proxyProjects) program.tokenProxies.add(root);
  for (const t of targets) {
    program.modules.set(t.shown, { family: familyOf(t.file.language), imports: t.imports });
    program.scopes.set(t.shown, t.project.root);
  }
  const byShown = new Map(targets.map((t) => [t.shown, t]));

  const graph = new Map<string, string[]>();
  for (const t of targets) {
    const deps: string[] = [];
    for (const mod of t.imports.modules) {
      const shown = program.resolveModule(t.shown, mod, familyOf(t.file.language));
      if (shown && shown !== t.shown) deps.push(shown);
    }
    graph.set(t.shown, deps);
  }
  const { order, cycles } = dependencyOrder(graph);
  for (const cycle of cycles) {
    errors.push({ kind: 'note', file: cycle[0]!, message: `import cycle across files (${cycle.join(' → ')} → ${cycle[0]}): analysed in up to ${MAX_ROUNDS} rounds` });
  }

  const results = new Map<string, { findings: Finding[]; deps: Map<string, number> }>();
  const analyse = async (shown: string, read?: Promise<string | { skipped: string }>) => {
    const t = byShown.get(shown)!;
    const text = await (read ?? readSource(t.file.abs, maxBytes));
    if (typeof text !== 'string') return;
    const tree = await parse(t.file.language, text);
    try {
      const ctx: FileContext = { file: shown, source: text, tree, language: t.file.language, family: familyOf(t.file.language) };
      results.set(shown, checkAuthorizationPassthrough(ctx, t.imports, program));
    } finally {
      tree.delete();
    }
  };
  let done = 0;
  const reads = readAhead(order.map((shown) => byShown.get(shown)!.file.abs), maxBytes);
  for (const [index, shown] of order.entries()) {
    await analyse(shown, reads(index));
    onProgress?.(++done, order.length, shown, 'flow');
  }
  // Each round walks the order again and re-analyses a file when it is reached, if its inputs changed by then: a
  // change made earlier in the same round (a store written by a file re-analysed before it) is picked up at once.
  for (let round = 1; round < MAX_ROUNDS; round++) {
    let again = 0;
    for (const shown of order) {
      const r = results.get(shown);
      if (!r || ![...r.deps].some(([key, seen]) => program.version(key) !== seen)) continue;
      again++;
      await analyse(shown);
    }
    if (!again) break;
  }
  return [...results.values()].flatMap((r) => r.findings);
}

/** Files in dependency order (imported before importer) and the import cycles found (Tarjan's strongly connected components). */
export function dependencyOrder(graph: Map<string, string[]>): { order: string[]; cycles: string[][] } {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const order: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  // Iterative, so a deep import chain cannot overflow the call stack.
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { node: string; i: number }[] = [{ node: start, i: 0 }];
    index.set(start, next); low.set(start, next); next++; stack.push(start); onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1]!;
      const edges = graph.get(top.node) ?? [];
      if (top.i < edges.length) {
        const to = edges[top.i++]!;
        if (!graph.has(to)) continue;
        if (!index.has(to)) {
          index.set(to, next); low.set(to, next); next++; stack.push(to); onStack.add(to);
          work.push({ node: to, i: 0 });
        } else if (onStack.has(to)) low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      if (work.length) low.set(work[work.length - 1]!.node, Math.min(low.get(work[work.length - 1]!.node)!, low.get(top.node)!));
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          component.push(n);
        } while (n !== top.node);
        component.reverse();
        order.push(...component);
        if (component.length > 1) cycles.push(component);
      }
    }
  }
  return { order, cycles };
}

/** One finding per rule and position (a flow reached from two files is reported once). */
function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.ruleId}:${f.file}:${f.line}:${f.column}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
