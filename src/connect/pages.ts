// The few pages a person sees on Deputy during a connect flow: plain server-rendered HTML, readable
// without scripts, with a landmark, a heading and a status role, and nothing from the request echoed
// unescaped. No token, code or state ever appears on a page.
import type { IncomingMessage, ServerResponse } from 'node:http';

const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}main{max-width:36rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px #0002}h1{font-size:1.4rem;margin-top:0}.ok h1{color:#1a7f37}.refused h1{color:#b42318}p.hint{color:#57606a}';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Writes one of Deputy's HTML pages with the headers every page gets: no caching, no scripts or
 * anything from elsewhere, no framing, no sniffing. Pages with forms pass `forms: true`: they may
 * submit to Deputy itself and send a same-origin referrer (so their posts carry an Origin, which
 * no-referrer would turn into "null").
 */
export function sendHtml(res: ServerResponse, status: number, html: string, opts: { forms?: boolean; headers?: Record<string, string | string[]> } = {}): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline';${opts.forms ? " form-action 'self';" : ''} frame-ancestors 'none'`,
    'referrer-policy': opts.forms ? 'same-origin' : 'no-referrer',
    'x-content-type-options': 'nosniff',
    ...opts.headers,
  });
  res.end(html);
}

/** One cookie's value from the request, or undefined. */
export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  return (req.headers.cookie ?? '').split(';').map((c) => c.trim()).find((c) => c.startsWith(`${name}=`))?.slice(name.length + 1);
}

export function sendPage(res: ServerResponse, status: number, page: { title: string; message: string; hint?: string }, headers: Record<string, string | string[]> = {}): void {
  const kind = status < 400 ? 'ok' : 'refused';
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(page.title)} · Deputy</title><style>${STYLE}</style></head><body><main class="${kind}"><h1>${escapeHtml(page.title)}</h1><p role="status">${escapeHtml(page.message)}</p>${page.hint ? `<p class="hint">${escapeHtml(page.hint)}</p>` : ''}</main></body></html>`;
  sendHtml(res, status, html, { headers });
}

export interface ConnectionRow {
  upstream: string;
  scope?: string;
  connectedAt: number;
  lastUsedAt?: number;
}

/** The signed-in person's connected accounts, each with a Disconnect form (POST, CSRF token). */
export function sendConnectionsPage(res: ServerResponse, who: string, rows: ConnectionRow[], csrf: string, notice?: string): void {
  const date = (t?: number) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : 'never');
  const body = rows.length
    ? `<table><caption>Accounts connected to Deputy</caption><thead><tr><th scope="col">Service</th><th scope="col">Access</th><th scope="col">Connected</th><th scope="col">Last used</th><th scope="col"><span class="sr">Action</span></th></tr></thead><tbody>${rows.map((r) => `<tr><th scope="row">${escapeHtml(r.upstream)}</th><td>${escapeHtml(r.scope ?? '—')}</td><td>${date(r.connectedAt)}</td><td>${date(r.lastUsedAt)}</td><td><form method="post" action="/connections/disconnect"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><input type="hidden" name="upstream" value="${escapeHtml(r.upstream)}"><button type="submit" aria-label="Disconnect ${escapeHtml(r.upstream)}">Disconnect</button></form></td></tr>`).join('')}</tbody></table>`
    : '<p role="status">You have no connected accounts. Your MCP client shows a connect link when a tool needs one.</p>';
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Connected accounts · Deputy</title><style>${STYLE}main{max-width:48rem}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #d0d7de}caption{text-align:left;color:#57606a;padding-bottom:.5rem}button{font:inherit;padding:.25rem .75rem;border:1px solid #b42318;color:#b42318;background:#fff;border-radius:6px;cursor:pointer}button:focus-visible{outline:3px solid #0969da;outline-offset:2px}.sr{position:absolute;left:-9999px}</style></head><body><main><h1>Connected accounts</h1><p class="hint">Signed in as ${escapeHtml(who)}.</p>${notice ? `<p role="status">${escapeHtml(notice)}</p>` : ''}${body}</main></body></html>`;
  sendHtml(res, 200, html, { forms: true });
}
