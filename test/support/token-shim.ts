// The conformance suites send no bearer token: this loopback shim in front of Deputy adds one minted by
// the test authorization server, streaming responses (SSE) through. A test fixture only; Deputy itself
// has no unauthenticated mode.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { onCleanup } from './cleanup.ts';

/** Loopback shim: forwards to Deputy with a bearer token, streaming responses (SSE) through. */
export async function startTokenShim(): Promise<{ origin: string; target(base: string, token: () => string): void }> {
  let base = '';
  let token = () => '';
  const shim = createServer(async (req, res) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length', 'authorization'].includes(k)) headers[k] = v;
    headers.authorization = `Bearer ${token()}`;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      const up = await request(`${base}${req.url}`, { method: req.method as 'POST', headers, body: chunks.length ? Buffer.concat(chunks) : undefined, bodyTimeout: 0 });
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(up.headers)) if (typeof v === 'string' && !['connection', 'transfer-encoding', 'keep-alive'].includes(k)) out[k] = v;
      res.writeHead(up.statusCode, out);
      res.on('close', () => up.body.destroy());
      up.body.on('error', () => res.destroy()); // the stream ended from either side: nothing to report
      up.body.pipe(res);
    } catch {
      if (!res.headersSent) res.writeHead(502).end();
    }
  });
  await new Promise<void>((r) => shim.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => new Promise<void>((r) => { shim.close(() => r()); shim.closeAllConnections(); }));
  return { origin: `http://127.0.0.1:${(shim.address() as AddressInfo).port}`, target: (b, t) => { base = b; token = t; } };
}

