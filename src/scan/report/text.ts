// Human-readable report: findings grouped by file, a summary line. Colour only when asked (the CLI decides: TTY and
// no NO_COLOR).
import type { Finding, Level, ScanError } from '../finding.ts';

export interface TextOptions {
  color?: boolean;
  filesScanned?: number;
  durationMs?: number;
  errors?: readonly ScanError[];
}

const CODES = { red: 31, yellow: 33, cyan: 36, dim: 2, bold: 1, green: 32 } as const;

export function formatText(findings: readonly Finding[], options: TextOptions = {}): string {
  const paint = (code: keyof typeof CODES, s: string) => (options.color ? `\x1b[${CODES[code]}m${s}\x1b[0m` : s);
  const levelColor: Record<Level, keyof typeof CODES> = { error: 'red', warning: 'yellow', note: 'cyan' };
  const lines: string[] = [];
  const byFile = new Map<string, Finding[]>();
  for (const f of findings) {
    let list = byFile.get(f.file);
    if (!list) byFile.set(f.file, (list = []));
    list.push(f);
  }
  for (const [file, list] of byFile) {
    lines.push(paint('bold', file));
    for (const f of list) {
      const pos = `${f.line}:${f.column}`.padEnd(8);
      lines.push(`  ${paint('dim', pos)}${paint(levelColor[f.level], f.level.padEnd(8))}${f.message}  ${paint('dim', f.ruleId)}`);
      const first = f.snippet.split('\n')[0]!.trim();
      if (first) lines.push(`          ${paint('dim', '│')} ${first}`);
      // The hops from source to sink; the file is named only where it changes.
      if (f.path && f.path.length > 1) {
        let file = f.file;
        lines.push(`          ${paint('dim', 'path:')}`);
        for (const s of f.path) {
          const where = s.file === file ? `${s.line}` : `${s.file}:${s.line}`;
          file = s.file;
          lines.push(`            ${paint('dim', where.padEnd(6))} ${s.message}`);
        }
      }
      lines.push(`          ${paint('dim', '↳ fix:')} ${f.fix}`);
    }
    lines.push('');
  }
  const errors = options.errors ?? [];
  if (errors.length) {
    lines.push(paint('bold', 'Not fully scanned'));
    for (const e of errors) lines.push(`  ${e.file}${e.line ? `:${e.line}:${e.column ?? 1}` : ''}  ${paint('dim', e.message)}`);
    lines.push('');
  }
  const count = (level: Level) => findings.filter((f) => f.level === level).length;
  const parts = (['error', 'warning', 'note'] as const).filter((l) => count(l)).map((l) => `${count(l)} ${l}${count(l) === 1 ? '' : 's'}`);
  const scanned = options.filesScanned !== undefined ? ` in ${options.filesScanned} file${options.filesScanned === 1 ? '' : 's'}` : '';
  const took = options.durationMs !== undefined ? ` (${options.durationMs} ms)` : '';
  const problems = errors.length ? `, ${errors.length} file${errors.length === 1 ? '' : 's'} not fully scanned` : '';
  lines.push(findings.length
    ? paint(count('error') ? 'red' : 'yellow', `✖ ${findings.length} finding${findings.length === 1 ? '' : 's'} (${parts.join(', ')})${scanned}${problems}${took}`)
    : paint('green', `✔ no findings${scanned}${problems}${took}`));
  return lines.join('\n') + '\n';
}
