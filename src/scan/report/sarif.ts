// SARIF 2.1.0 for GitHub code scanning and other SARIF viewers: rule metadata in tool.driver.rules, results with
// relative URIs against %SRCROOT%, regions in UTF-16 columns, and a line-independent partial fingerprint so alerts
// survive unrelated edits above them.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding, RuleMeta, ScanError } from '../finding.ts';

export interface SarifOptions {
  rules: readonly RuleMeta[];
  toolVersion?: string;
  /** Directory that relative finding paths are relative to (default process.cwd()). */
  srcRoot?: string;
  errors?: readonly ScanError[];
}

export const SARIF_SCHEMA = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

type Json = Record<string, unknown>;

export function toSarif(findings: readonly Finding[], options: SarifOptions): Json {
  const srcRoot = options.srcRoot ?? process.cwd();
  const ruleIndex = new Map(options.rules.map((r, i) => [r.id, i]));
  const seen = new Map<string, number>();
  const errors = options.errors ?? [];
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'deputy',
            informationUri: 'https://github.com/deputy-mcp/deputy',
            semanticVersion: options.toolVersion ?? '0.0.0',
            rules: options.rules.map(ruleDescriptor),
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(srcRoot.endsWith(path.sep) ? srcRoot : srcRoot + path.sep).href } },
        columnKind: 'utf16CodeUnits',
        invocations: [
          {
            executionSuccessful: !errors.some((e) => e.kind !== 'skipped' && e.kind !== 'note'),
            toolExecutionNotifications: errors.map((e) => ({
              level: e.kind === 'skipped' || e.kind === 'note' ? 'note' : 'error',
              message: { text: `${e.file}: ${e.message}` },
              locations: [{ physicalLocation: { artifactLocation: artifact(e.file), ...(e.line ? { region: { startLine: e.line, startColumn: e.column ?? 1 } } : {}) } }],
            })),
          },
        ],
        results: findings.map((f) => {
          const base = `${f.ruleId}\u0000${f.file}\u0000${f.snippet.replace(/\s+/g, ' ').trim()}`;
          const occurrence = (seen.get(base) ?? 0) + 1;
          seen.set(base, occurrence);
          const result: Json = {
            ruleId: f.ruleId,
            level: f.level,
            message: { text: `${f.message} Fix: ${f.fix}` },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: artifact(f.file),
                  region: {
                    startLine: f.line,
                    startColumn: f.column,
                    endLine: f.endLine,
                    endColumn: f.endColumn,
                    snippet: { text: f.snippet },
                  },
                },
              },
            ],
            partialFingerprints: { 'deputyFindingHash/v1': createHash('sha256').update(`${base}\u0000${occurrence}`).digest('hex').slice(0, 32) },
            properties: { fix: f.fix },
          };
          // The data flow, source first and the sink last, possibly across files: one thread flow.
          if (f.path && f.path.length > 1) {
            result.codeFlows = [{
              message: { text: `${f.path.length} steps from the inbound credential to the outbound request` },
              threadFlows: [{
                locations: f.path.map((s, i) => ({
                  location: {
                    physicalLocation: { artifactLocation: artifact(s.file), region: { startLine: s.line, startColumn: s.column } },
                    message: { text: s.message },
                  },
                  nestingLevel: 0,
                  executionOrder: i + 1,
                })),
              }],
            }];
          }
          const index = ruleIndex.get(f.ruleId);
          if (index !== undefined) result.ruleIndex = index;
          return result;
        }),
      },
    ],
  };
}

function artifact(file: string): Json {
  if (path.isAbsolute(file)) return { uri: pathToFileURL(file).href };
  return { uri: file.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

function ruleDescriptor(rule: RuleMeta): Json {
  return {
    id: rule.id,
    name: rule.name,
    shortDescription: { text: rule.shortDescription },
    fullDescription: { text: rule.fullDescription },
    help: { text: rule.help, markdown: rule.helpMarkdown },
    helpUri: rule.helpUri,
    defaultConfiguration: { level: rule.defaultLevel },
    properties: {
      tags: rule.tags,
      precision: 'high',
      'problem.severity': rule.defaultLevel,
      'security-severity': rule.securitySeverity.toFixed(1),
    },
  };
}
