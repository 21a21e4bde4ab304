// Finds the files to scan: walks the given paths, honours .gitignore files (from the enclosing git root down) and
// skips dependency and virtualenv folders, which hold other people's code and would drown real findings, and build
// output beside its sources or inside installed dependencies. A published package that ships only its build
// (`package.json` + `dist/`), scanned as itself, is scanned there: that is the code that runs.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isIgnored, parseGitignore, type IgnoreFile } from './gitignore.ts';
import { languageFor, type LanguageId } from './parser.ts';

/** Directory names never descended into (unless given explicitly as a scan path). */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set([
  'node_modules', '.git', '.hg', '.svn', '__pycache__', '.venv', 'venv',
  '.tox', '.nox', '.mypy_cache', '.pytest_cache', '.ruff_cache', 'site-packages',
]);

/** Build output folders: skipped beside their sources (see `hasSources`) and in installed dependencies. */
const BUILD_DIRS: ReadonlySet<string> = new Set(['dist', 'build']);

/** Files that say a folder holds a project's sources, so its `dist/` or `build/` is only their copy. */
const SOURCE_MARKERS: ReadonlySet<string> = new Set(['tsconfig.json', 'jsconfig.json', 'pyproject.toml', 'setup.py', 'setup.cfg']);

/** A `src/` folder, a source-project marker, or TypeScript or Python sources right here. */
function hasSources(entries: { name: string; isDirectory(): boolean; isFile(): boolean }[]): boolean {
  return entries.some((e) => (e.isDirectory() && e.name === 'src') || (e.isFile() && (SOURCE_MARKERS.has(e.name) || (/\.(tsx?|mts|cts|py)$/.test(e.name) && !/\.d\.[cm]?ts$/.test(e.name)))));
}

export interface SourceFile {
  abs: string;
  language: LanguageId;
  /** The scan path (absolute) this file was found under; groups files without a project manifest. */
  scanRoot: string;
}

export interface WalkOptions {
  gitignore?: boolean;
  /** Include test files met in folders (see `isTestFile`); a test file named on the command line is always scanned. */
  tests?: boolean;
  /** Called for paths that do not exist or cannot be read, and for symbolic links that are skipped. */
  onError?: (abs: string, message: string, kind: 'path' | 'read' | 'skipped') => void;
}

export async function collectFiles(paths: readonly string[], options: WalkOptions = {}): Promise<SourceFile[]> {
  const useGitignore = options.gitignore !== false;
  const out: SourceFile[] = [];
  const seen = new Set<string>();
  for (const given of paths) {
    const abs = path.resolve(given);
    let info;
    try {
      info = await stat(abs);
    } catch (error) {
      options.onError?.(abs, `cannot read path: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'path');
      continue;
    }
    if (info.isFile()) {
      const language = languageFor(abs);
      if (language && !seen.has(abs)) {
        seen.add(abs);
        out.push({ abs, language, scanRoot: path.dirname(abs) });
      }
      continue;
    }
    const stack = useGitignore ? await ancestorIgnores(abs) : [];
    await walk(abs, abs, stack, useGitignore, out, seen, options, new Set([await realpath(abs).catch(() => abs)]));
  }
  return out;
}

async function walk(dir: string, scanRoot: string, ignores: IgnoreFile[], useGitignore: boolean, out: SourceFile[], seen: Set<string>, options: WalkOptions, ancestors: Set<string>): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    options.onError?.(dir, `cannot read directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'read');
    return;
  }
  // A virtualenv is recognised by its marker file whatever the folder is called.
  if (dir !== scanRoot && entries.some((e) => e.name === 'pyvenv.cfg' && e.isFile())) return;
  let stack = ignores;
  if (useGitignore && entries.some((e) => e.name === '.gitignore' && e.isFile())) {
    const text = await readFile(path.join(dir, '.gitignore'), 'utf8').catch(() => '');
    stack = [...ignores, parseGitignore(dir, text)];
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // Build output is skipped beside its sources, and in installed dependencies (`deputy scan node_modules`) unless the
  // package itself is what was asked for (`deputy scan node_modules/some-server`).
  const skipBuild = hasSources(entries) || (dir !== scanRoot && dir.split(path.sep).includes('node_modules'));
  for (const entry of entries) {
    const abs = path.join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    let real = abs;
    if (entry.isSymbolicLink()) {
      // Followed, once: a link back into a folder being walked (a loop) is skipped with a note.
      real = await realpath(abs).catch(() => '');
      const target = real ? await stat(real).catch(() => undefined) : undefined;
      if (!target) {
        if (languageFor(entry.name)) options.onError?.(abs, 'skipped: broken symbolic link', 'skipped');
        continue;
      }
      if (target.isDirectory() && ancestors.has(real)) {
        options.onError?.(abs, `skipped: symbolic link loop (back to ${real})`, 'skipped');
        continue;
      }
      isDir = target.isDirectory();
      isFile = target.isFile();
    }
    if (isDir) {
      if (SKIPPED_DIRS.has(entry.name) || (BUILD_DIRS.has(entry.name) && skipBuild)) continue;
      if (useGitignore && isIgnored(stack, abs, true, relativeInside)) continue;
      const realDir = real === abs ? await realpath(abs).catch(() => abs) : real;
      if (ancestors.has(realDir)) continue;
      await walk(abs, scanRoot, stack, useGitignore, out, seen, options, new Set([...ancestors, realDir]));
    } else if (isFile) {
      const language = languageFor(entry.name);
      if (!language || seen.has(abs) || seen.has(real)) continue;
      if (!options.tests && isTestFile(relativeInside(scanRoot, abs) ?? entry.name)) continue;
      if (useGitignore && isIgnored(stack, abs, false, relativeInside)) continue;
      seen.add(abs);
      seen.add(real);
      out.push({ abs, language, scanRoot });
    }
  }
}

/**
 * Tests and their fixtures, by the usual names: what they send is made up for the test, and a flow that starts in a
 * test is not the server's (`*.test.ts`, `*.spec.js`, `test_*.py`, `*_test.py`, `conftest.py`, and files under
 * `test/`, `tests/`, `__tests__/`, `spec/`, `e2e/` below the scan root).
 */
export function isTestFile(relative: string): boolean {
  const name = relative.slice(relative.lastIndexOf('/') + 1);
  if (/\.(test|spec)\.[cm]?[jt]sx?$/.test(name) || /^test_.*\.py$/.test(name) || /_test\.py$/.test(name) || name === 'conftest.py') return true;
  return /(^|\/)(tests?|__tests__|spec|e2e)\//.test(relative);
}

/** .gitignore files between the enclosing git work tree's root and `dir` (exclusive), outermost first. */
async function ancestorIgnores(dir: string): Promise<IgnoreFile[]> {
  const chain: string[] = [];
  let gitRoot: string | undefined;
  for (let probe = dir; ; probe = path.dirname(probe)) {
    if (probe !== dir) chain.push(probe);
    if (await exists(path.join(probe, '.git'))) { gitRoot = probe; break; }
    const parent = path.dirname(probe);
    if (parent === probe) break;
  }
  if (!gitRoot) return [];
  const files: IgnoreFile[] = [];
  for (const d of chain.reverse()) {
    const text = await readFile(path.join(d, '.gitignore'), 'utf8').catch(() => undefined);
    if (text !== undefined) files.push(parseGitignore(d, text));
  }
  return files;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

function relativeInside(dir: string, abs: string): string | undefined {
  const rel = path.relative(dir, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}
