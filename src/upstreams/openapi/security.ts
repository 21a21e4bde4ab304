// Where the upstream's credential goes for one operation. The credential itself always comes from
// the upstream's configured mode (never from the client); the operation's effective `security`
// (operation over root; `[]` = none; alternatives OR-ed, schemes within one requirement AND-ed)
// only decides placement: bearer/oauth2/openIdConnect → Authorization: Bearer, apiKey → its named
// header/query/cookie, basic → Authorization: Basic base64(token as "user:password").
import type { OpenApiDocument } from './load.ts';

export type Placement = { kind: 'bearer' } | { kind: 'basic' } | { kind: 'apiKey'; in: 'header' | 'query' | 'cookie'; name: string };

export type SecurityPlan =
  /** The document says nothing about security: a configured token is sent as a bearer token. */
  | { kind: 'unspecified' }
  /** `security: []` (or an empty alternative and nothing usable): no credential is placed. */
  | { kind: 'none' }
  | { kind: 'schemes'; placements: Placement[]; names: string[] }
  /** Only schemes Deputy cannot fill (mutualTLS, http digest…): configured headers are sent as they are. */
  | { kind: 'unsupported'; names: string[] };

type Obj = Record<string, any>;

export function placementFor(scheme: Obj | undefined): Placement | undefined {
  if (!scheme || typeof scheme !== 'object') return undefined;
  switch (scheme.type) {
    case 'http': {
      const s = String(scheme.scheme ?? '').toLowerCase();
      return s === 'bearer' ? { kind: 'bearer' } : s === 'basic' ? { kind: 'basic' } : undefined;
    }
    case 'oauth2':
    case 'openIdConnect':
      return { kind: 'bearer' };
    case 'apiKey':
      return ['header', 'query', 'cookie'].includes(scheme.in) && typeof scheme.name === 'string' && scheme.name ? { kind: 'apiKey', in: scheme.in, name: scheme.name } : undefined;
    default:
      return undefined;
  }
}

export function securityPlan(doc: OpenApiDocument, op: Obj, deref: (x: unknown) => Obj): SecurityPlan {
  const reqs: unknown = op.security ?? doc.security;
  if (reqs === undefined) return { kind: 'unspecified' };
  if (!Array.isArray(reqs) || reqs.length === 0) return { kind: 'none' };
  const schemes: Obj = doc.components?.securitySchemes ?? {};
  let optional = false;
  const seen: string[] = [];
  for (const alt of reqs) {
    const names = Object.keys(alt ?? {}).sort();
    if (names.length === 0) {
      optional = true;
      continue;
    }
    seen.push(...names);
    const placements = names.map((n) => {
      try {
        return placementFor(deref(schemes[n]));
      } catch {
        return undefined;
      }
    });
    if (placements.every((p) => p !== undefined)) return { kind: 'schemes', placements: placements as Placement[], names };
  }
  return optional ? { kind: 'none' } : { kind: 'unsupported', names: [...new Set(seen)] };
}

/** Parameters that carry a credential in some scheme of the document: never tool inputs. */
export function credentialParameters(doc: OpenApiDocument, deref: (x: unknown) => Obj): { in: string; name: string }[] {
  const out = [{ in: 'header', name: 'authorization' }];
  for (const s of Object.values<Obj>(doc.components?.securitySchemes ?? {})) {
    let p: Placement | undefined;
    try {
      p = placementFor(deref(s));
    } catch {
      p = undefined;
    }
    if (p?.kind === 'apiKey') out.push({ in: p.in, name: p.in === 'header' ? p.name.toLowerCase() : p.name });
  }
  return out;
}
