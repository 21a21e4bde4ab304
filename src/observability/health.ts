// /readyz: may this replica take traffic? 200 with a JSON description of each component when it can,
// even degraded (Redis down → local caches; PostgreSQL down → spooling to disk); 503 only when it
// cannot serve at all: shutting down, or no issuer's keys could ever be loaded.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type ComponentStatus = { status: 'ok' | 'up' | 'degraded' | 'spooling' | 'unavailable' | 'draining'; [k: string]: unknown };

export interface Readiness {
  status: 'ready' | 'degraded' | 'not_ready';
  components: Record<string, ComponentStatus>;
}

const DEGRADED = new Set(['degraded', 'spooling', 'unavailable']);

export function readiness(components: Record<string, ComponentStatus>, fatal: string[]): Readiness {
  const status = fatal.length ? 'not_ready' : Object.values(components).some((c) => DEGRADED.has(c.status)) ? 'degraded' : 'ready';
  return { status, components };
}

export function readinessHandler(check: () => Promise<Readiness>): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    check().then(
      (r) => res.writeHead(r.status === 'not_ready' ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(r)),
      (error: Error) => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'not_ready', error: error.message })),
    );
  };
}
