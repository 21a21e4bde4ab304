// Where exported audit events go: a JSON-lines file (or stdout), syslog (RFC 5424, over TCP with
// octet-counting framing, TLS, or UDP), or an HTTP webhook (a JSON array per batch). A sink either
// takes a whole batch or throws; the exporter keeps its place and tries again, so nothing is lost.
import { appendFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';

export interface ExportSink {
  readonly describe: string;
  send(lines: string[], severities: number[]): Promise<void>;
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

/** POST a JSON array (json/ocsf) or text lines (cef) per batch; 2xx is delivered, anything else is retried. */
export function webhookSink(url: string, headers: () => Record<string, string>, json: boolean, timeoutMs = 10_000): ExportSink {
  return {
    describe: `webhook ${new URL(url).origin}`,
    async send(lines) {
      const res = await fetch(url, {
        method: 'POST',
        redirect: 'manual', // a redirect is a misconfiguration, not a place to send audit data
        signal: AbortSignal.timeout(timeoutMs),
        headers: { 'content-type': json ? 'application/json' : 'text/plain; charset=utf-8', 'user-agent': 'deputy-audit-export', ...headers() },
        body: json ? `[${lines.join(',')}]` : lines.join('\n'),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) throw new Error(`the webhook answered HTTP ${res.status}${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}`);
    },
    async close() {},
  };
}
