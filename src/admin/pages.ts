// The admin console's page frame: a skip link, a labelled navigation with the current page marked,
// one main landmark and heading, readable without scripts, and the same security headers as every
// page Deputy serves (no framing, no referrer beyond the origin, nothing loaded from elsewhere).
import type { ServerResponse } from 'node:http';
import { escapeHtml, sendHtml } from '../connect/pages.ts';

export type Section = 'upstreams' | 'state' | 'accounts' | 'pins' | 'audit';

const NAV: [Section, string, string][] = [['upstreams', '/admin', 'Upstreams'], ['state', '/admin/state', 'Tokens and quotas'], ['accounts', '/admin/accounts', 'Connected accounts'], ['pins', '/admin/pins', 'Pinned definitions'], ['audit', '/admin/audit', 'Audit trail']];

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
.skip{position:absolute;left:-9999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
header{background:#1b1f24;color:#fff;padding:.75rem 1.5rem;display:flex;gap:2rem;align-items:center}
header strong{font-size:1.1rem}nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0}
nav a{color:#c9d1d9;text-decoration:none;padding:.25rem .5rem;border-radius:6px}nav a[aria-current=page]{background:#30363d;color:#fff}
nav a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #58a6ff;outline-offset:2px}
.who{margin-left:auto;color:#8b949e}main{max-width:72rem;margin:1.5rem auto;padding:0 1.5rem}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #d0d7de;vertical-align:top}
caption{text-align:left;color:#57606a;padding:.5rem 0}section{background:#fff;padding:1rem;border-radius:8px;margin-bottom:1rem}
pre{background:#0d1117;color:#c9d1d9;padding:.75rem;overflow:auto;border-radius:6px}.add{color:#7ee787}.del{color:#ffa198}
button{font:inherit;padding:.3rem .9rem;border-radius:6px;border:1px solid #1f6feb;background:#1f6feb;color:#fff;cursor:pointer}
.filters{display:flex;gap:1rem;flex-wrap:wrap;align-items:end;margin:1rem 0}.filters input{font:inherit;padding:.2rem .4rem}
.charts{display:flex;gap:1.5rem;flex-wrap:wrap}.chart{display:flex;gap:2px;align-items:flex-end;height:64px;background:#fff;padding:4px;border-radius:6px}.bar{background:#1f6feb;width:10px}
.sr{position:absolute;left:-9999px}.ok{color:#1a7f37}.bad{color:#b42318;font-weight:bold}.o-ok{color:#1a7f37}[class^=o-]:not(.o-ok){color:#b42318}.hint{color:#57606a}`;

export function adminPage(res: ServerResponse, p: { section: Section; title: string; who: string; body: string }): void {
  const nav = NAV.map(([s, href, label]) => `<li><a href="${href}"${s === p.section ? ' aria-current="page"' : ''}>${label}</a></li>`).join('');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(p.title)} · Deputy admin</title><style>${STYLE}</style></head><body><a class="skip" href="#main">Skip to content</a><header><strong>Deputy admin</strong><nav aria-label="Admin"><ul>${nav}</ul></nav><span class="who">${escapeHtml(p.who)}</span></header><main id="main"><h1>${escapeHtml(p.title)}</h1>${p.body}</main></body></html>`;
  sendHtml(res, 200, html, { forms: true });
}
