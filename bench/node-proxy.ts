// The Node floor: the leanest proxy Node can be (node:http server + undici keep-alive pool, no auth,
// no parsing, no audit). Deputy runs on the same runtime, so this is what it can at best approach.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [upstream, port] = [process.argv[2]!, Number(process.argv[3] ?? 0)];
const u = new URL(upstream);
const pool = new Pool(u.origin, { connections: 256 });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    pool.request({ path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: String(req.headers.accept), 'mcp-session-id': String(req.headers['mcp-session-id']) }, body: Buffer.concat(chunks) }).then((up) => {
      res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type']), 'content-length': String(up.headers['content-length']) });
      up.body.pipe(res);
    }, () => res.writeHead(502).end());
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
process.on('SIGTERM', () => process.exit(0));
