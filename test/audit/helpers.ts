// Running `deputy audit …` as a user would: a child process on the pinned Node.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AuditEvent } from '../../src/audit/event.ts';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;

export async function deputyCli(args: string[], cwd = process.cwd()): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [main, ...args], { cwd, env: process.env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

export function event(i: number, extra: Partial<AuditEvent> = {}): AuditEvent {
  return { time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), requestId: `req-${i}`, issuer: 'https://idp.example', subject: `user-${i % 3}`, route: '/mcp/notes', upstream: 'notes', httpMethod: 'POST', rpcMethod: 'tools/call', target: 'add', credentialMode: 'static', outcome: 'ok', status: 200, latencyMs: 1.25 + i / 1000, ...extra };
}
