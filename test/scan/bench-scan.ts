// Measures scan speed on a large real tree (not a test: run it by hand).
//   node test/scan/bench-scan.ts [PATH=node_modules]
// Explicitly given folders are walked even when named node_modules; nested node_modules/dist/build are still skipped.
import { scanPaths } from '../../src/scan/index.ts';

const target = process.argv[2] ?? 'node_modules';
const result = await scanPaths([target], { maxFileBytes: 2 * 1024 * 1024 });
const seconds = result.durationMs / 1000;
const byKind = new Map<string, number>();
for (const e of result.errors) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
const byRule = new Map<string, number>();
for (const f of result.findings) byRule.set(f.ruleId, (byRule.get(f.ruleId) ?? 0) + 1);
console.log(JSON.stringify({
  target,
  filesScanned: result.filesScanned,
  seconds: Number(seconds.toFixed(2)),
  filesPerSecond: Math.round(result.filesScanned / seconds),
  findings: Object.fromEntries(byRule),
  errors: Object.fromEntries(byKind),
  rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
}, null, 2));
