// The few pages a person sees on Deputy during a connect flow: plain server-rendered HTML, readable
// without scripts, with a landmark, a heading and a status role, and nothing from the request echoed
// unescaped. No token, code or state ever appears on a page.
import type { ServerResponse } from 'node:http';

const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}main{max-width:36rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px #0002}h1{font-size:1.4rem;margin-top:0}.ok h1{color:#1a7f37}.refused h1{color:#b42318}p.hint{color:#57606a}';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function sendPage(res: ServerResponse, status: number, page: { title: string; message: string; hint?: string }, headers: Record<string, string | string[]> = {}): void {
  const kind = status < 400 ? 'ok' : 'refused';
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(page.title)} · Deputy</title><style>${STYLE}</style></head><body><main class="${kind}"><h1>${escapeHtml(page.title)}</h1><p role="status">${escapeHtml(page.message)}</p>${page.hint ? `<p class="hint">${escapeHtml(page.hint)}</p>` : ''}</main></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(html);
}
