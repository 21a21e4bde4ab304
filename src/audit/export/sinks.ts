// Where exported audit events go: a JSON-lines file (or stdout), syslog (RFC 5424, over TCP with
// octet-counting framing, TLS, or UDP), an HTTP webhook (a JSON array per batch), or OpenTelemetry
// logs (OTLP/HTTP, JSON). A sink either takes a whole batch or throws; the exporter keeps its place
// and tries again, so nothing is lost.
import { appendFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import type { ChainRow } from '../chain.ts';
import { throttledWarning } from '../../log.ts';
import type { ExportFormat } from './formats.ts';
import { logsRequest, partialSuccess } from './otlp.ts';

export interface ExportSink {
  readonly describe: string;
  /** `lines`: the rows in the configured format; `severities`: syslog severities (0-7) from the outcomes; `rows`: the chain rows themselves. */
  send(lines: string[], severities: number[], rows: ChainRow[]): Promise<void>;
  close(): Promise<void>;
}

export function fileSink(path: string): ExportSink {
  return {
    describe: path === '-' ? 'stdout' : `file ${path}`,
    async send(lines) {
      const text = lines.map((l) => `${l}\n`).join('');
      if (path === '-') await new Promise<void>((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve())));
      else await appendFile(path, text, { mode: 0o600 });
    },
    async close() {},
  };
}

/** RFC 5424 over tcp://, tls:// (octet counting, RFC 6587 / 5425) or udp:// (one datagram per message). */
export function syslogSink(address: string, appName = 'deputy', timeoutMs = 5000): ExportSink {
  const url = new URL(address);
  const port = Number(url.port || (url.protocol === 'tls:' ? 6514 : 514));
  const host = url.hostname;
  const me = hostname().replace(/[^\x21-\x7e]/g, '-').slice(0, 255) || '-';
  const app = appName.replace(/[^\x21-\x7e]/g, '-').slice(0, 48);
  // facility 13 (log audit); severity from the event (0 emergency … 7 debug)
  const frame = (line: string, severity: number) => `<${13 * 8 + severity}>1 ${new Date().toISOString()} ${me} ${app} ${process.pid} audit - ${line}`;
  let socket: Socket | undefined;

  const connected = (): Promise<Socket> => {
    if (socket && !socket.destroyed) return Promise.resolve(socket);
    return new Promise((resolve, reject) => {
      const s = url.protocol === 'tls:' ? tlsConnect({ host, port, servername: host }) : createConnection({ host, port });
      const timer = setTimeout(() => s.destroy(new Error(`syslog ${host}:${port} did not accept a connection within ${timeoutMs} ms`)), timeoutMs);
      s.once(url.protocol === 'tls:' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket = s;
        s.on('error', () => s.destroy());
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  };

  return {
    describe: `syslog ${url.protocol}//${host}:${port}`,
    async send(lines, severities) {
      const messages = lines.map((l, i) => frame(l, severities[i] ?? 6));
      if (url.protocol === 'udp:') {
        const udp = createSocket(host.includes(':') ? 'udp6' : 'udp4');
        try {
          for (const m of messages) await new Promise<void>((resolve, reject) => udp.send(Buffer.from(m), port, host, (e) => (e ? reject(e) : resolve())));
        } finally {
          udp.close();
        }
        return;
      }
      const s = await connected();
      const data = messages.map((m) => `${Buffer.byteLength(m)} ${m}`).join('');
      await new Promise<void>((resolve, reject) => s.write(data, (e) => (e ? (s.destroy(), reject(e)) : resolve())));
    },
    async close() {
      socket?.end();
    },
  };
}

/** Most of a response body kept (a collector's answer is small; a runaway one is cut, not buffered). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * One POST of a batch, shared by the webhook and OTLP sinks: a 2xx is delivered (its body is returned),
 * anything else throws and the exporter retries. Redirects are not followed (a redirect is a
 * misconfiguration, not a place to send audit data). Errors name the origin, never a header.
 */
export async function postBatch(what: string, url: string, headers: Record<string, string>, contentType: string, body: string, timeoutMs: number): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: { 'content-type': contentType, 'user-agent': 'deputy-audit-export', ...headers },
      body,
    });
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new Error(`${what} ${new URL(url).origin} could not be reached: ${why}`);
  }
  const text = await readCapped(res);
  if (res.status < 200 || res.status >= 300) throw new Error(`${what} answered HTTP ${res.status}${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}`);
  return text;
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size >= MAX_RESPONSE_BYTES) break; // leaving the loop cancels the rest of the body
    }
  } catch {
    // a body cut short says nothing about delivery: the status does
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}

/** POST a JSON array (json/ocsf) or text lines (cef/leef) per batch; 2xx is delivered, anything else is retried. */
export function webhookSink(url: string, headers: () => Record<string, string>, json: boolean, timeoutMs = 10_000): ExportSink {
  return {
    describe: `webhook ${new URL(url).origin}`,
    async send(lines) {
      await postBatch('the webhook', url, headers(), json ? 'application/json' : 'text/plain; charset=utf-8', json ? `[${lines.join(',')}]` : lines.join('\n'), timeoutMs);
    },
    async close() {},
  };
}

/**
 * OpenTelemetry logs over OTLP/HTTP with the JSON encoding: one ExportLogsServiceRequest per batch to
 * the logs endpoint (…/v1/logs). A 2xx is delivered, except a partial success that rejected records:
 * the OTLP spec tells clients not to retry that, but a rejected audit record would be a lost one, so
 * the batch counts as failed and is retried (the receiver sees the accepted records again and can
 * drop them by replica and seq); a collector that keeps rejecting stops the export visibly (failures
 * and lag gauges, a warning) instead of leaving a silent gap.
 */
export function otlpSink(endpoint: string, headers: () => Record<string, string>, format: ExportFormat, timeoutMs = 10_000): ExportSink {
  const origin = new URL(endpoint).origin;
  const warn = throttledWarning('the OTLP endpoint accepted the audit events with a warning');
  const rejectedWarn = throttledWarning('the OTLP endpoint rejected audit log records (partial success); the batch is sent again until it is taken whole');
  return {
    describe: `otlp ${origin}`,
    async send(_lines, severities, rows) {
      const answer = await postBatch('the OTLP endpoint', endpoint, headers(), 'application/json', JSON.stringify(logsRequest(rows, format, severities)), timeoutMs);
      const partial = partialSuccess(answer);
      if (partial?.rejected) {
        rejectedWarn(origin, { sink: `otlp ${origin}`, rejected: partial.rejected, of: rows.length, message: partial.message });
        throw new Error(`the OTLP endpoint rejected ${partial.rejected} of ${rows.length} log records (partial success${partial.message ? `: ${partial.message}` : ''}); the batch is sent again`);
      }
      if (partial) warn(origin, { sink: `otlp ${origin}`, message: partial.message });
    },
    async close() {},
  };
}
