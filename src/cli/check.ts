// `deputy check`: validate a config and lint it for security problems, reported as findings in the
// same format as `deputy scan` (text, JSON, SARIF) with the exact line of the offending key.
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError, type ConfigIssue } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import type { DeputyConfig } from '../config/schema.ts';
import type { CredentialProvider } from '../outbound/provider.ts';
import { createOpenApiToolset } from '../upstreams/openapi/index.ts';
import type { Finding, Level, RuleMeta } from '../scan/finding.ts';
import { formatText, toSarif } from '../scan/index.ts';
import { formatJson } from '../scan/report/json.ts';
import { parseFlags, UsageError } from './args.ts';

const help = `Usage: deputy check --config deputy.yaml [--format text|json|sarif]

Validates the configuration (every problem, with the exact key, line and a fix) and lints it for
security problems: token passthrough, plain http:// off loopback (upstreams, token, introspection and
JWKS endpoints), literal secrets, ephemeral signing keys. Findings use the same format as
'deputy scan'. Exit code 0 when the config is valid, 1 when it is not, 2 on usage errors.`;

const SPEC = 'https://modelcontextprotocol.io/specification/2025-06-18/basic/security_best_practices#token-passthrough';
const rule = (id: string, name: string, level: Level, short: string, full: string, severity: number): RuleMeta => ({
  id, name, shortDescription: short, fullDescription: full, help: full, helpMarkdown: full, helpUri: SPEC, defaultLevel: level, tags: ['security', 'configuration'], securitySeverity: severity,
});
export const CONFIG_RULES: readonly RuleMeta[] = [
  rule('config-invalid', 'InvalidConfiguration', 'error', 'The configuration cannot be loaded.', 'A key is missing, unknown or has an invalid value; Deputy refuses to start with it.', 5),
  rule('config-literal-secret', 'LiteralSecret', 'error', 'A secret is written literally in the config file.', 'Secrets must be references ({ env: NAME } or { file: PATH }) so they stay out of the file and out of version control.', 7.5),
  rule('config-passthrough', 'TokenPassthrough', 'warning', 'An upstream receives the clients\' own tokens.', 'Token passthrough violates the MCP specification (MUST NOT): prefer token_exchange, client_credentials or static credentials.', 8),
  rule('config-plain-http', 'PlainHttpOffLoopback', 'warning', 'Credentials travel over plain http off loopback.', 'Use https for every endpoint that receives a credential or a token.', 6.5),
  rule('openapi-excluded-operation', 'OpenApiOperationExcluded', 'note', 'An OpenAPI operation is not exposed as a tool.', 'The operation was filtered out by configuration or cannot be called safely (e.g. an unsupported request body); it is never exposed without its body.', 0),
  rule('openapi-summary', 'OpenApiSummary', 'note', 'What an OpenAPI upstream exposes.', 'How many operations the spec has and how many became tools.', 0),
  rule('openapi-warning', 'OpenApiWarning', 'warning', 'The OpenAPI document needs attention.', 'Deputy loaded the spec but noticed something that may surprise you (conversion, oversized schemas, server paths).', 2),
  rule('config-ephemeral-identity-key', 'EphemeralIdentityKey', 'warning', 'Identity assertions are signed with an ephemeral key.', 'Configure identity.signing_keys so backends can pin Deputy\'s keys across restarts and replicas.', 3),
];

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('check', argv, { config: { type: 'string', short: 'c', default: 'deputy.yaml' }, format: { type: 'string', default: 'text' }, json: { type: 'boolean' } });
  if (values.help) return void console.log(help), 0;
  const format = values.json ? 'json' : String(values.format);
  if (!['text', 'json', 'sarif'].includes(format)) throw new UsageError(`deputy check: --format must be text, json or sarif (got '${format}')`);
  const path = resolve(String(values.config));
  let errors: ConfigIssue[] = [];
  let warnings: ConfigIssue[] = [];
  try {
    const config = await loadConfig(path);
    warnings = [...config.warnings, ...(await openApiIssues(config, dirname(path), errors))];
    for (const s of config.secrets) s.close();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    errors = error.issues;
  }
  const text = await readFile(path, 'utf8').catch(() => '');
  const file = relative(process.cwd(), path) || path;
  const findings = toFindings(text, file, errors, warnings);
  if (format === 'json') console.log(formatJson({ findings, errors: [], filesScanned: 1, durationMs: 0 }));
  else if (format === 'sarif') console.log(JSON.stringify(toSarif(findings, { rules: CONFIG_RULES }), null, 2));
  else {
    if (findings.length) console.error(formatText(findings, { color: process.stderr.isTTY && !process.env.NO_COLOR }).trimEnd());
    const count = (level: Level) => findings.filter((f) => f.level === level).length;
    console.error(`${path}: ${errors.length ? 'invalid' : 'valid'}, ${count('error')} error(s), ${count('warning')} warning(s), ${count('note')} note(s)`);
  }
  return errors.length ? 1 : 0;
}

/** Loads each OpenAPI spec as serving would, reporting excluded operations and spec problems. */
async function openApiIssues(config: DeputyConfig, baseDir: string, errors: ConfigIssue[]): Promise<ConfigIssue[]> {
  const out: ConfigIssue[] = [];
  for (const [i, u] of config.upstreams.entries()) {
    if (u.type !== 'openapi') continue;
    const path = `upstreams[${i}]`;
    // Never called: check only loads the spec, it does not make requests.
    const credentials: CredentialProvider = { mode: u.credentials.type, get: () => Promise.reject(new Error('not available in deputy check')) };
    try {
      const toolset = await createOpenApiToolset(u, credentials, { baseDir, configPath: path });
      for (const w of toolset.report.warnings) out.push({ path: `${path}.spec`, rule: 'openapi-warning', message: w });
      for (const e of toolset.report.excluded) out.push({ path: `${path}.spec`, rule: 'openapi-excluded-operation', message: `${e.operation}: ${e.reason}` });
      out.push({ path, rule: 'openapi-summary', message: `upstream '${u.name}': ${toolset.report.tools} tools from ${toolset.report.operations} operations, ${toolset.report.excluded.length} excluded` });
      await toolset.close();
    } catch (error) {
      if (error instanceof ConfigError) errors.push(...error.issues);
      else errors.push({ path: `${path}.spec`, message: (error as Error).message });
    }
  }
  return out;
}

/** Maps config issues to findings positioned at the offending key in the YAML source. */
export function toFindings(text: string, file: string, errors: ConfigIssue[], warnings: ConfigIssue[]): Finding[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: true });
  const locate = (issuePath: string) => {
    const keys = issuePath.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== '').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    for (let n = keys.length; n > 0; n--) {
      const node = doc.getIn(keys.slice(0, n), true) as Node | undefined;
      if (node?.range) {
        const start = lines.linePos(node.range[0]);
        const end = lines.linePos(node.range[1]);
        return { line: start.line, column: start.col, endLine: end.line, endColumn: end.col, snippet: text.split('\n')[start.line - 1]?.trim() ?? '' };
      }
    }
    return { line: 1, column: 1, endLine: 1, endColumn: 1, snippet: '' };
  };
  const finding = (issue: ConfigIssue, level: Level): Finding => {
    if (issue.rule === 'openapi-excluded-operation' || issue.rule === 'openapi-summary') level = 'note';
    const ruleId = level === 'error'
      ? (/literal secrets are not allowed/.test(issue.message) ? 'config-literal-secret' : 'config-invalid')
      : issue.rule?.startsWith('openapi-') ? issue.rule : `config-${issue.rule ?? 'invalid'}`;
    const fix = CONFIG_RULES.find((r) => r.id === ruleId)?.fullDescription ?? '';
    return { ruleId, level, message: `${issue.path ? `${issue.path}: ` : ''}${issue.message}`, file, ...locate(issue.path), fix };
  };
  return [...errors.map((e) => finding(e, 'error')), ...warnings.map((w) => finding(w, 'warning'))];
}
