// A readable diff of two pinned definitions (pretty-printed canonical JSON), for `deputy tools diff`
// and the admin console.
import type { PinRow } from './pin-store.ts';

/** A small LCS line diff: ' ' kept, '-' pinned only, '+' changed only. Definitions are short. */
export function lineDiff(a: string[], b: string[]): string[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) (out.push(`  ${a[i]}`), i++, j++);
    else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push(`- ${a[i++]}`);
    else out.push(`+ ${b[j++]}`);
  }
  while (i < n) out.push(`- ${a[i++]}`);
  while (j < m) out.push(`+ ${b[j++]}`);
  return out;
}

/** A pending change: the pinned and the changed definition, pretty-printed, line by line. */
export function definitionDiff(p: PinRow): string[] {
  const pretty = (json: string) => JSON.stringify(JSON.parse(json), null, 2).split('\n');
  return lineDiff(pretty(p.definition), pretty(p.pendingDefinition!));
}
