// Measures `deputy scan` on a labelled case set kept outside the repository (real servers' files, which are not ours
// to copy): each case is a folder with the files needed to see the flow, and `manifest.jsonl` beside the folders says
// what it is. Prints recall and precision per rule and per language, case by case with --verbose.
//   node scripts/scan-eval.ts DIR… [--verbose] [--json]
// A manifest line: {"id", "repo", "commit", "language", "label": "positive"|"negative", "rule", "shape", "sink": {"file", "line"}}
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { scanPaths } from '../src/scan/index.ts';

interface Case {
  id: string;
  repo: string;
  language: string;
  label: 'positive' | 'negative';
  rule: string;
  shape: string;
  sink?: { file: string; line: number };
  exclude?: boolean;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { verbose: { type: 'boolean' }, json: { type: 'boolean' } } });
if (!positionals.length) {
  console.error('usage: node scripts/scan-eval.ts DIR… [--verbose] [--json]');
  process.exit(2);
}

interface Outcome { c: Case; dir: string; hit: boolean; atSink: boolean; findings: string[] }
const outcomes: Outcome[] = [];
let files = 0;
let ms = 0;
for (const dir of positionals) {
  const lines = readFileSync(path.join(dir, 'manifest.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
  for (const line of lines) {
    const c = JSON.parse(line) as Case;
    if (c.exclude) continue;
    const caseDir = path.join(dir, c.id);
    const result = await scanPaths([caseDir], { cwd: caseDir });
    files += result.filesScanned;
    ms += result.durationMs;
    const mine = result.findings.filter((f) => f.ruleId === c.rule);
    const sinkFile = c.sink?.file.replace(/^\.\//, '');
    const atSink = !!c.sink && mine.some((f) => (f.file === sinkFile || f.file.endsWith('/' + sinkFile!) || sinkFile!.endsWith(f.file)) && Math.abs(f.line - c.sink!.line) <= 2);
    outcomes.push({ c, dir, hit: mine.length > 0, atSink, findings: mine.map((f) => `${f.file}:${f.line}`) });
  }
}

type Row = { group: string; positives: number; found: number; atSink: number; negatives: number; falseAlarms: number; recall: number; precision: number };
const rows: Row[] = [];
const groups = new Map<string, Outcome[]>();
for (const o of outcomes) {
  const lang = o.c.language === 'python' ? 'python' : 'typescript/javascript';
  for (const g of [`${o.c.rule} · ${lang}`, `${o.c.rule} · all`]) groups.set(g, [...(groups.get(g) ?? []), o]);
}
for (const [group, list] of [...groups].sort()) {
  const pos = list.filter((o) => o.c.label === 'positive');
  const neg = list.filter((o) => o.c.label === 'negative');
  const found = pos.filter((o) => o.hit).length;
  const falseAlarms = neg.filter((o) => o.hit).length;
  rows.push({
    group, positives: pos.length, found, atSink: pos.filter((o) => o.atSink).length, negatives: neg.length, falseAlarms,
    recall: pos.length ? found / pos.length : 1, precision: found + falseAlarms ? found / (found + falseAlarms) : 1,
  });
}

if (values.json) {
  console.log(JSON.stringify({ rows, filesPerSecond: Math.round(files / (ms / 1000)), cases: outcomes.map((o) => ({ id: o.c.id, label: o.c.label, rule: o.c.rule, hit: o.hit, atSink: o.atSink, findings: o.findings })) }, null, 2));
} else {
  if (values.verbose) {
    for (const o of outcomes) {
      const ok = o.c.label === 'positive' ? o.hit : !o.hit;
      console.log(`${ok ? 'ok  ' : 'MISS'} ${o.c.label.padEnd(8)} ${o.c.rule.padEnd(26)} ${path.basename(o.dir)}/${o.c.id}${o.c.label === 'positive' && o.hit && !o.atSink ? `  (found, not at the labelled sink: ${o.findings.join(' ')})` : ''}${!ok && o.findings.length ? '  ' + o.findings.join(' ') : ''}`);
    }
    console.log('');
  }
  console.log('group'.padEnd(46) + 'recall      precision   (found/positives, at sink, false alarms/negatives)');
  for (const r of rows) {
    console.log(`${r.group.padEnd(46)} ${r.recall.toFixed(2).padEnd(12)}${r.precision.toFixed(2).padEnd(12)}${r.found}/${r.positives}, ${r.atSink} at sink, ${r.falseAlarms}/${r.negatives}`);
  }
  console.log(`\n${files} files in ${(ms / 1000).toFixed(2)} s`);
}
