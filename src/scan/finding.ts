// The finding format shared by `deputy scan` and other commands that report problems in files
// (`deputy check` reports configuration problems in the same shape). Kept free of scanner internals.

export type Level = 'error' | 'warning' | 'note';

export const LEVELS: readonly Level[] = ['error', 'warning', 'note'];

export interface Finding {
  /** Stable rule id, e.g. `authorization-passthrough`. */
  ruleId: string;
  level: Level;
  message: string;
  /** Path relative to the working directory (forward slashes), or absolute when outside it. */
  file: string;
  /** 1-based line and column (columns count UTF-16 code units, as SARIF does by default). */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** The evidence: the source text of the reported span (first lines only when long). */
  snippet: string;
  /** How to fix it, one or two sentences. */
  fix: string;
  /** For data-flow rules: the steps from the source to the sink (the last step is the sink), possibly across files. */
  path?: PathStep[];
}

/** One hop of a finding's data flow (SARIF `threadFlowLocation`). */
export interface PathStep {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** A file that could not be read or parsed; scanning went on without it (or with the part that parsed). */
export interface ScanError {
  /**
   * `path`: a given path is missing; `read`: unreadable; `parse`: syntax errors (partly scanned); `skipped`: too large,
   * minified, binary or a symbolic-link loop; `note`: scanned, with a caveat (an import cycle).
   */
  kind: 'path' | 'read' | 'parse' | 'skipped' | 'note';
  file: string;
  message: string;
  line?: number;
  column?: number;
}

/** Describes a rule for reports (SARIF `reportingDescriptor`) and docs. */
export interface RuleMeta {
  id: string;
  /** PascalCase name, SARIF `name`. */
  name: string;
  shortDescription: string;
  fullDescription: string;
  help: string;
  helpMarkdown: string;
  helpUri: string;
  defaultLevel: Level;
  tags: string[];
  /** CVSS-like 0.0–10.0 score used by GitHub code scanning to rank security alerts. */
  securitySeverity: number;
}

/** Whether `level` is at or above `threshold` (error > warning > note). */
export function atOrAbove(level: Level, threshold: Level): boolean {
  return LEVELS.indexOf(level) <= LEVELS.indexOf(threshold);
}

/** Stable order for reports: file, then position, then rule. */
export function compareFindings(a: Finding, b: Finding): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column || (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0);
}
