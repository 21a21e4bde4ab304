// Runs the property-based fuzz tests (test/fuzz/*.test.ts) longer than `npm test` does:
//   npm run fuzz -- --runs 5000
// Same properties, same generators; only the number of runs (and optionally the seed) changes. Prints
// progress while running and a summary at the end (per property: passed, or failed with the command
// that reproduces the failure). Exit code 1 when any property failed.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
const DIR = join(ROOT, 'test/fuzz');
/** The seed of `npm test` (test/fuzz/support.ts DEFAULT_SEED). */
const DEFAULT_SEED = 0x5eed12;

const USAGE = `Usage: npm run fuzz -- [options]

Runs the property-based fuzz tests in test/fuzz/ with more runs than npm test.

Options:
  --runs N          runs per property (default 1000; npm test uses 100-300, 40 for HTTP)
  --seed N|random   fast-check seed (default ${DEFAULT_SEED}, the one npm test uses;
                    "random" picks one and prints it)
  --only A,B        only test files whose name contains A or B (jsonrpc, bearer, config, http-front)
  --name TEXT       only properties whose name contains TEXT (as printed on failure)
  --path PATH       replay one failure: the fast-check path printed with it (use with --seed, --name)
  --jobs N          test files run in parallel (default 1: ordered output)
  --timeout-ms N    per test file (default: none)
  --help            this text

Examples:
  npm run fuzz -- --runs 5000
  npm run fuzz -- --runs 20000 --only jsonrpc,bearer --seed random
  npm run fuzz -- --seed ${DEFAULT_SEED} --name 'jsonrpc: parseMessage' --path '9:0:0:1'
`;

let args;
try {
  args = parseArgs({
    options: {
      runs: { type: 'string', default: '1000' },
      seed: { type: 'string' },
      only: { type: 'string' },
      name: { type: 'string' },
      path: { type: 'string' },
      jobs: { type: 'string', default: '1' },
      'timeout-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const positiveInt = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${flag} must be a positive integer, got ${JSON.stringify(v)}\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const runs = positiveInt('runs', args.runs)!;
const jobs = positiveInt('jobs', args.jobs)!;
const timeoutMs = positiveInt('timeout-ms', args['timeout-ms']);
let seed = DEFAULT_SEED;
if (args.seed === 'random') seed = Math.floor(Math.random() * 0x7fffffff);
else if (args.seed !== undefined) {
  seed = Number(args.seed);
  if (!Number.isInteger(seed)) {
    process.stderr.write(`--seed must be an integer or "random", got ${JSON.stringify(args.seed)}\n`);
    process.exit(2);
  }
}

const only = args.only?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
  .map((f) => relative(ROOT, join(DIR, f)));
if (files.length === 0) {
  process.stderr.write(`no fuzz test files match --only ${args.only}\n`);
  process.exit(2);
}

const env: NodeJS.ProcessEnv = { ...process.env, FUZZ_RUNS: String(runs), FUZZ_SEED: String(seed), FUZZ_PROGRESS: '1' };
if (args.name) env.FUZZ_NAME = args.name;
else delete env.FUZZ_NAME;
if (args.path) env.FUZZ_PATH = args.path;
else delete env.FUZZ_PATH;

const started = Date.now();
process.stdout.write(`fuzz: ${files.length} file(s), ${runs} runs per property, seed ${seed}${args.name ? `, properties matching ${JSON.stringify(args.name)}` : ''}${args.path ? `, replaying path ${args.path}` : ''}\n  ${files.join('\n  ')}\n\n`);

const nodeArgs = ['--test', `--test-concurrency=${jobs}`, '--test-reporter=spec', ...(timeoutMs ? [`--test-timeout=${timeoutMs}`] : []), ...files];
const child = spawn(process.execPath, nodeArgs, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });

/** `[fuzz] <property>: ok …` / `FAILED …` lines, for the summary. */
const results: string[] = [];
const tallies: string[] = [];
let counts = '';
const scan = (line: string) => {
  const m = /\[fuzz\] (.*)$/.exec(line);
  if (m) {
    if (/: (ok, |FAILED )/.test(m[1]!)) results.push(m[1]!);
    else if (/outcomes/.test(m[1]!)) tallies.push(m[1]!);
  }
  const c = /^ℹ (tests|pass|fail|cancelled) (\d+)/.exec(line);
  if (c) counts += `${c[1]} ${c[2]}  `;
};
for (const stream of [child.stdout, child.stderr]) {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    process.stdout.write(chunk);
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines) scan(l);
  });
  stream.on('end', () => pending && scan(pending));
}

const forward = (signal: NodeJS.Signals) => process.on(signal, () => child.kill(signal));
forward('SIGINT');
forward('SIGTERM');

child.on('close', (code, signal) => {
  const secs = Math.round((Date.now() - started) / 100) / 10;
  const failed = results.filter((r) => /: FAILED /.test(r));
  const out = [
    '',
    '── fuzz summary ──────────────────────────────────────────────',
    `seed ${seed}, ${runs} runs per property, ${secs} s${counts ? `; tests: ${counts.trim()}` : ''}`,
    ...results.map((r) => `  ${/: FAILED /.test(r) ? '✖' : '✔'} ${r}`),
    ...(tallies.length ? ['', ...tallies.map((t) => `  ${t}`)] : []),
    '',
    failed.length || code ? `FAILED: ${failed.length} propert${failed.length === 1 ? 'y' : 'ies'}${code && !failed.length ? ` (node --test exited with ${signal ?? code})` : ''}; counterexamples above` : 'all properties held',
    '',
  ];
  process.stdout.write(out.join('\n'));
  process.exit(code === 0 && failed.length === 0 ? 0 : 1);
});
