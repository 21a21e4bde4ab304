// An https front for a test server, as a TLS-terminating load balancer would be: a certificate for
// 127.0.0.1 made with openssl for this run, and every request passed on to the http server behind it.
// `fetch` makes https requests that trust this certificate (and nothing else), for the test servers
// that must reach the front (an authorization server fetching a Client ID Metadata Document).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.ts';

export interface TlsFront {
  /** https://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The self-signed certificate (PEM): its own CA. */
  cert: string;
  /** Points the front at the http server behind it (e.g. after a restart on another port). */
  target(url: string): void;
  fetch(url: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startTlsFront(opts: { port?: number; target?: string } = {}): Promise<TlsFront> {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`openssl could not make a test certificate: ${(error as Error).message}`);
  }
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });

  let target = opts.target ?? '';
  const server = createServer({ key, cert }, (req, res) => {
    const to = new URL(req.url ?? '/', target);
    const upstream = httpRequest(to, { method: req.method, headers: { ...req.headers, 'x-forwarded-proto': 'https' } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const close = () => new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
  onCleanup(close);

  /** An https request trusting only `cert`, answered as a fetch Response. */
  const fetchTrusting = (url: string, init: RequestInit = {}) => new Promise<Response>((resolve, reject) => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const req = httpsRequest(url, { method: init.method ?? 'GET', headers, ca: cert, signal: init.signal ?? undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 502, headers: h }));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (typeof init.body === 'string') req.write(init.body);
    req.end();
  });

  return { url: `https://127.0.0.1:${port}`, port, cert, target: (url) => void (target = url), fetch: fetchTrusting, close };
}
