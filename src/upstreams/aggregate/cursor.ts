// Compound pagination cursor for merged listings: which upstreams still have pages, and each one's own
// cursor. Opaque to clients (base64url JSON); the kind is included so a tools cursor cannot page prompts.
import { INVALID_PARAMS, JsonRpcError } from '../../protocol/jsonrpc.ts';

export type MemberCursors = Record<string, string>;

export function encodeCursor(kind: string, cursors: MemberCursors): string | undefined {
  if (Object.keys(cursors).length === 0) return undefined;
  return Buffer.from(JSON.stringify({ k: kind, c: cursors })).toString('base64url');
}

/** undefined for the first page; the remaining members' cursors otherwise. */
export function decodeCursor(kind: string, cursor: unknown, members: ReadonlySet<string>): MemberCursors | undefined {
  if (cursor === undefined) return undefined;
  const bad = () => new JsonRpcError(INVALID_PARAMS, 'Invalid params: unknown cursor (pass back nextCursor exactly as received)');
  if (typeof cursor !== 'string' || cursor.length > 8192) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const p = parsed as { k?: unknown; c?: unknown };
  if (p?.k !== kind || typeof p.c !== 'object' || p.c === null || Array.isArray(p.c)) throw bad();
  const out: MemberCursors = {};
  for (const [m, c] of Object.entries(p.c)) {
    if (!members.has(m) || typeof c !== 'string') throw bad();
    out[m] = c;
  }
  if (Object.keys(out).length === 0) throw bad();
  return out;
}
