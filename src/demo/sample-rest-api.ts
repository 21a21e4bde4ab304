// The demo's REST API: a per-user task list behind OAuth. It accepts only tokens the authorization
// server issued *for this API* (aud = its URL) — so it works behind Deputy's token exchange, where it
// sees the real user (`sub`) and the acting gateway (`act`), and rejects a replayed client token.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

export interface SampleRestApi {
  url: string;
  /** Who called, per request (for tests and the demo log). */
  calls: { method: string; path: string; sub?: string; actor?: string; status: number }[];
  /** Access tokens the API treats as revoked (401 invalid_token), as if its AS had revoked them. */
  revoked: Set<string>;
  close(): Promise<void>;
}

/** `GET /report` needs this scope beyond the usual ones: without it the API answers 403 insufficient_scope. */
export const REPORT_SCOPE = 'tasks:report';

export async function startSampleRestApi(opts: { issuer: string; port?: number }): Promise<SampleRestApi> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const jwks = createRemoteJWKSet(new URL(`${opts.issuer}/jwks`));
  const tasks = new Map<string, { id: string; title: string; done: boolean }[]>();
  const calls: SampleRestApi['calls'] = [];
  const revoked = new Set<string>();

  const spec = {
    openapi: '3.1.0',
    info: { title: 'Tasks API (Deputy demo)', version: '1.0' },
    servers: [{ url }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Task: { type: 'object', required: ['id', 'title', 'done'], properties: { id: { type: 'string', readOnly: true }, title: { type: 'string' }, done: { type: 'boolean' } } },
      },
    },
    paths: {
      '/tasks': {
        get: { operationId: 'listTasks', summary: "List the caller's tasks", responses: { '200': { description: 'tasks', content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Task' } } } } } } },
        post: {
          operationId: 'addTask', summary: 'Add a task for the caller',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['title'], properties: { title: { type: 'string', maxLength: 200 } } } } } },
          responses: { '201': { description: 'created', content: { 'application/json': { schema: { $ref: '#/components/schemas/Task' } } } } },
        },
      },
      '/tasks/{id}/done': {
        post: { operationId: 'completeTask', summary: 'Mark a task done', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Task' } } } }, '404': { description: 'no such task' } } },
      },
      '/report': {
        get: { operationId: 'report', summary: `A report of every task (needs the ${REPORT_SCOPE} scope)`, responses: { '200': { description: 'report', content: { 'application/json': { schema: { type: 'object', properties: { user: { type: 'string' }, tasks: { type: 'integer' } } } } } }, '403': { description: 'insufficient scope' } } },
      },
      '/whoami': {
        get: { operationId: 'whoami', summary: 'Who the API thinks is calling (user and acting client)', responses: { '200': { description: 'caller', content: { 'application/json': { schema: { type: 'object', properties: { user: { type: 'string' }, acting_client: { type: 'string' }, audience: { type: 'string' } } } } } } } },
      },
    },
  };

  const authenticate = async (req: IncomingMessage): Promise<JWTPayload | undefined> => {
    const h = req.headers.authorization;
    if (!h?.startsWith('Bearer ') || revoked.has(h.slice(7))) return undefined;
    try {
      return (await jwtVerify(h.slice(7), jwks, { issuer: opts.issuer, audience: url })).payload;
    } catch {
      return undefined;
    }
  };

  server.on('request', async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return status;
    };
    if (path === '/openapi.json') return void json(200, spec);
    const claims = await authenticate(req);
    const record = (status: number) => calls.push({ method: req.method ?? '', path, sub: claims?.sub, actor: (claims?.act as { sub?: string } | undefined)?.sub, status });
    if (!claims?.sub) {
      res.setHeader('www-authenticate', `Bearer error="invalid_token", error_description="a token for ${url} is required"`);
      return void record(json(401, { error: 'invalid_token' }));
    }
    const mine = tasks.get(claims.sub) ?? [];
    tasks.set(claims.sub, mine);
    if (req.method === 'GET' && path === '/tasks') return void record(json(200, mine));
    if (req.method === 'GET' && path === '/report') {
      const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
      if (!scopes.includes(REPORT_SCOPE)) {
        res.setHeader('www-authenticate', `Bearer error="insufficient_scope", scope="${[...scopes, REPORT_SCOPE].join(' ')}"`);
        return void record(json(403, { error: 'insufficient_scope' }));
      }
      return void record(json(200, { user: claims.sub, tasks: [...tasks.values()].reduce((n, l) => n + l.length, 0) }));
    }
    if (req.method === 'GET' && path === '/whoami') return void record(json(200, { user: claims.sub, acting_client: (claims.act as { sub?: string } | undefined)?.sub, audience: claims.aud }));
    if (req.method === 'POST' && path === '/tasks') {
      let body: { title?: unknown } = {};
      try {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      } catch {}
      if (typeof body.title !== 'string') return void record(json(400, { error: 'title required' }));
      const task = { id: String(mine.length + 1), title: body.title, done: false };
      mine.push(task);
      return void record(json(201, task));
    }
    const done = /^\/tasks\/([^/]+)\/done$/.exec(path);
    if (req.method === 'POST' && done) {
      const task = mine.find((t) => t.id === decodeURIComponent(done[1]!));
      if (!task) return void record(json(404, { error: 'no such task' }));
      task.done = true;
      return void record(json(200, task));
    }
    record(json(404, { error: 'not found' }));
  });

  return {
    url, calls, revoked,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}
