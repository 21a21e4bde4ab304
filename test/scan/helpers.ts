// Test helpers: fixture expectations (`expect: rule-id` trailing comments) and a CLI runner.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = path.join(ROOT, 'test/scan/fixtures');
export const MAIN = path.join(ROOT, 'src/cli/main.ts');

/** `file:line:rule` keys for every `expect:` marker in the given fixture files (paths relative to ROOT). */
export function expectations(files: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const file of files) {
    const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const marker = /(?:#|\/\/)\s*expect:\s*([\w\-, ]+)\s*$/.exec(line);
      if (!marker) return;
      for (const rule of marker[1]!.split(',').map((s) => s.trim()).filter(Boolean)) out.add(`${file}:${i + 1}:${rule}`);
    });
  }
  return out;
}

export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A temporary folder holding the given files (relative path → content). */
export function tree(files: Record<string, string | Buffer>, prefix = 'deputy-scan-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}
