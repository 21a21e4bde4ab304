/** One problem in a config file: the exact key path and what to do about it. */
export interface ConfigIssue {
  path: string;
  message: string;
  /** Lint rule for warnings (`passthrough`, `plain-http`, …); errors have none. */
  rule?: string;
}

/** Thrown when a config cannot be loaded; carries every issue found, not just the first. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'ERR_DEPUTY_CONFIG';
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], source?: string) {
    const where = source ? ` in ${source}` : '';
    super(`invalid configuration${where}:\n${issues.map((i) => `  - ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n')}`);
    this.issues = issues;
  }
}
