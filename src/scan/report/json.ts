// Machine-readable report. The shape is a contract (documented in docs/scan.md): add fields, never rename them.
import type { Finding, ScanError } from '../finding.ts';

export interface JsonReport {
  version: 1;
  tool: { name: 'deputy'; version: string };
  summary: { filesScanned: number; findings: number; error: number; warning: number; note: number; errors: number; durationMs: number };
  findings: Finding[];
  errors: ScanError[];
}

export function toJsonReport(result: { findings: Finding[]; errors: ScanError[]; filesScanned: number; durationMs: number }, toolVersion: string): JsonReport {
  const count = (level: Finding['level']) => result.findings.filter((f) => f.level === level).length;
  return {
    version: 1,
    tool: { name: 'deputy', version: toolVersion },
    summary: {
      filesScanned: result.filesScanned,
      findings: result.findings.length,
      error: count('error'),
      warning: count('warning'),
      note: count('note'),
      errors: result.errors.length,
      durationMs: result.durationMs,
    },
    findings: result.findings.map((f) => ({ ...f })),
    errors: result.errors.map((e) => ({ ...e })),
  };
}

export function formatJson(result: { findings: Finding[]; errors: ScanError[]; filesScanned: number; durationMs: number }, toolVersion = '0.0.0'): string {
  return JSON.stringify(toJsonReport(result, toolVersion), null, 2) + '\n';
}
