// `deputy scan PATH… [--format text|json|sarif | --json] [--fail-on error|warning|none] [--output FILE]`
// Exit codes: 0 clean (nothing at or above --fail-on), 1 findings at or above --fail-on, 2 usage error, a missing path,
// or a file that could not be read or parsed (the scan still completes and reports everything it found).
import { readFile, writeFile } from 'node:fs/promises';
import { parseFlags, UsageError } from './main.ts';
import { atOrAbove, type Level } from '../scan/finding.ts';
import { formatText, RULES, scanPaths, toSarif } from '../scan/index.ts';
import { formatJson } from '../scan/report/json.ts';

export const scanUsage = `deputy scan — find token passthrough and missing JWT audience checks

Usage: deputy scan PATH… [--format text|json|sarif | --json] [--fail-on error|warning|none] [--output FILE] [--include-tests]

Options:
  --format     text (default), json, or sarif (SARIF 2.1.0, for GitHub code scanning)
  --json       the same as --format json
  --fail-on    lowest level that makes the exit code 1: error (default), warning, or none
  --output     write the report to FILE instead of stdout
  --no-gitignore  also scan files that .gitignore excludes
  --include-tests also scan test files found in folders (*.test.ts, test_*.py, tests/…; skipped by default)

Rules: authorization-passthrough, jwt-no-audience (see docs/scan.md)
Exit codes: 0 clean · 1 findings at or above --fail-on · 2 usage error, missing path, or unreadable/unparsable file`;

const PROGRESS_EVERY = 500;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('scan', argv, {
    format: { type: 'string', default: 'text' },
    json: { type: 'boolean', default: false },
    'fail-on': { type: 'string', default: 'error' },
    output: { type: 'string', short: 'o' },
    'no-gitignore': { type: 'boolean', default: false },
    'include-tests': { type: 'boolean', default: false },
  }, true);
  if (values.help) {
    console.log(scanUsage);
    return 0;
  }
  const format = values.json ? 'json' : values.format as string;
  if (!['text', 'json', 'sarif'].includes(format)) throw new UsageError(`deputy scan: --format must be text, json or sarif (got '${format}')`);
  const failOn = values['fail-on'] as string;
  if (!['error', 'warning', 'note', 'none'].includes(failOn)) throw new UsageError(`deputy scan: --fail-on must be error, warning or none (got '${failOn}')`);
  if (!positionals.length) throw new UsageError(`deputy scan: give at least one PATH to scan\n\n${scanUsage}`);

  // Progress goes to stderr: redrawn in place on a terminal, a line every PROGRESS_EVERY files otherwise.
  const tty = process.stderr.isTTY === true;
  let lastDraw = 0;
  const onProgress = (done: number, total: number, _file: string, stage: 'parse' | 'flow') => {
    const what = stage === 'parse' ? 'scanning' : 'following data across';
    if (tty) {
      const now = Date.now();
      if (total >= 200 && (now - lastDraw > 100 || done === total)) {
        lastDraw = now;
        process.stderr.write(`\r${what} ${done}/${total} files…${done === total ? '\r\x1b[K' : ''}`);
      }
    } else if (done % PROGRESS_EVERY === 0) {
      process.stderr.write(`deputy scan: ${what} ${done}/${total} files\n`);
    }
  };

  const result = await scanPaths(positionals, { gitignore: !values['no-gitignore'], tests: values['include-tests'] === true, onProgress });
  const version = await toolVersion();
  let report: string;
  if (format === 'json') report = formatJson(result, version);
  else if (format === 'sarif') report = JSON.stringify(toSarif(result.findings, { rules: RULES, toolVersion: version, errors: result.errors }), null, 2) + '\n';
  else {
    const color = !values.output && process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
    report = formatText(result.findings, { color, filesScanned: result.filesScanned, durationMs: result.durationMs, errors: result.errors });
  }
  if (values.output) await writeFile(values.output, report);
  else process.stdout.write(report);

  // Skipped files (too large, minified, binary, link loops) and notes (import cycles) are reported, not failures.
  const failed = result.errors.filter((e) => e.kind !== 'skipped' && e.kind !== 'note');
  if (failed.length) {
    if (format !== 'text') for (const e of failed) process.stderr.write(`deputy scan: ${e.file}: ${e.message}\n`);
    return 2;
  }
  if (failOn !== 'none' && result.findings.some((f) => atOrAbove(f.level, failOn as Level))) return 1;
  return 0;
}

async function toolVersion(): Promise<string> {
  try {
    return (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
