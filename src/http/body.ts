// Reads a request body into memory with a hard size cap (413 before buffering anything when the
// declared Content-Length is already too large). Event listeners, not `for await`: the async
// iterator machinery showed up in hot-path profiles. A client that goes away mid-body is its own
// error, so it is audited as `aborted` rather than logged as a failure of Deputy's.
import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

export class ClientAbortedError extends Error {
  override name = 'ClientAbortedError';
}

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) return Promise.reject(new BodyTooLargeError(`request body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.resume(); // drain the rest without buffering; the 413 closes the connection
        reject(new BodyTooLargeError(`request body exceeds the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const aborted = () => reject(new ClientAbortedError(`the client disconnected after sending ${size} bytes of the request body`));
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', aborted);
    req.once('close', () => {
      if (!req.complete) aborted();
    });
  });
}

/** A small application/x-www-form-urlencoded body (the console's and connect pages' forms), or undefined. */
export async function readForm(req: IncomingMessage, maxBytes = 8192): Promise<URLSearchParams | undefined> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) return undefined;
  try {
    return new URLSearchParams((await readBody(req, maxBytes)).toString('utf8'));
  } catch {
    return undefined;
  }
}
