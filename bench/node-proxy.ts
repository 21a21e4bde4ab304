// The Node floor: the leanest proxy Node can be (node:http server + undici keep-alive pool through the
// low-level dispatch API, no auth, no parsing, no audit). Deputy runs on the same runtime and the same
// dispatch path, so this is what it can at best approach.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [upstream, port] = [process.argv[2]!, Number(process.argv[3] ?? 0)];
const u = new URL(upstream);
const pool = new Pool(u.origin, { connections: 256 });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const headers = { 'content-type': 'application/json', accept: String(req.headers.accept), 'mcp-session-id': String(req.headers['mcp-session-id']) };
    pool.dispatch({ path: u.pathname, method: 'POST', headers, body: Buffer.concat(chunks) }, {
      onRequestStart() {}, // marks this as a new-API handler
      onResponseStart(_c, status, h) {
        res.writeHead(status, { 'content-type': String(h['content-type']), 'content-length': String(h['content-length']) });
      },
      onResponseData(_c, chunk) {
        res.write(chunk);
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError() {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      },
    });
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
process.on('SIGTERM', () => process.exit(0));
