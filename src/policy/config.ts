// `policy:` of an upstream entry: who may use which of its tools. Validated here with key-path errors
// (`upstreams[0].policy.tools.add_note.claims.groups`) so a typo never silently widens access.
//
//   policy:
//     scopes: [crm:read]                 # needed for anything on this upstream
//     claims: { tenant: acme }           # token claim conditions for anything on this upstream
//     allow: ["list_*", get_note]        # only these tools exist for clients (globs: * and ?)
//     deny: ["delete_*"]                 # never these (deny wins over allow)
//     tools:
//       add_note: { scopes: [notes:write], claims: { groups: finance } }
import type { Reader } from '../config/reader.ts';
import { describe } from '../config/reader.ts';

/** claim name → accepted values; the claim satisfies the condition if it equals or contains any of them. */
export type ClaimConditions = Record<string, string[]>;

export interface ToolRule {
  /** The key as written: an exact tool name or a glob. */
  pattern: string;
  scopes: string[];
  claims: ClaimConditions;
}

export interface UpstreamPolicy {
  scopes: string[];
  claims: ClaimConditions;
  allow: string[];
  deny: string[];
  tools: ToolRule[];
}

/** A tool name or glob as config may name it (policy and quotas). */
export const TOOL_PATTERN = /^[A-Za-z0-9_\-.*?/:]{1,128}$/;
export const TOOL_PATTERN_HINT = 'is not a tool name or pattern (letters, digits, _ - . / : and the wildcards * ?)';
const CLAIM_NAME = /^[A-Za-z0-9_\-.:/]{1,64}$/;

export function parsePolicy(r: Reader): UpstreamPolicy {
  const policy: UpstreamPolicy = {
    scopes: scopes(r, 'scopes'),
    claims: claims(r),
    allow: patterns(r, 'allow'),
    deny: patterns(r, 'deny'),
    tools: [],
  };
  const t = r.object('tools');
  for (const key of Object.keys(t.value as object)) {
    const tr = t.object(key);
    if (!TOOL_PATTERN.test(key)) t.fail(TOOL_PATTERN_HINT, key);
    if (!tr.isObject() || Object.keys(tr.value as object).length === 0) {
      t.fail('expected a mapping with scopes and/or claims, e.g. { scopes: [notes:write] }', key);
      continue;
    }
    policy.tools.push({ pattern: key, scopes: scopes(tr, 'scopes'), claims: claims(tr) });
    tr.rejectUnknownKeys();
  }
  r.rejectUnknownKeys();
  return policy;
}

function scopes(r: Reader, key: string): string[] {
  const list = r.stringList(key);
  for (const [i, s] of list.entries()) {
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s)) r.fail(`${JSON.stringify(s)} is not a valid OAuth scope token (RFC 6749 §3.3)`, `${key}[${i}]`);
  }
  return list;
}

function patterns(r: Reader, key: string): string[] {
  const raw = r.raw(key);
  if (typeof raw === 'string') {
    // A bare string would be split on whitespace by stringList; a pattern list must be explicit.
    r.fail(`expected a list of tool names or patterns, e.g. [${JSON.stringify(raw)}]`, key);
    return [];
  }
  const list = r.stringList(key);
  for (const [i, p] of list.entries()) {
    if (!TOOL_PATTERN.test(p)) r.fail(`${JSON.stringify(p)} ${TOOL_PATTERN_HINT}`, `${key}[${i}]`);
  }
  return list;
}

export function claims(r: Reader): ClaimConditions {
  const c = r.object('claims');
  const out: ClaimConditions = {};
  for (const name of Object.keys(c.value as object)) {
    const v = c.raw(name);
    if (!CLAIM_NAME.test(name)) {
      c.fail('is not a claim name', name);
      continue;
    }
    if (typeof v === 'string' && v !== '') out[name] = [v];
    else if ((typeof v === 'number' || typeof v === 'boolean')) out[name] = [String(v)];
    else if (Array.isArray(v) && v.length > 0 && v.every((x) => (typeof x === 'string' && x !== '') || typeof x === 'number' || typeof x === 'boolean')) out[name] = v.map(String);
    else c.fail(`expected a value or a non-empty list of values the claim must equal or contain, got ${describe(v)}`, name);
  }
  return out;
}
