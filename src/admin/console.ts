// The admin console at /admin (off unless `admin.enabled`): server-rendered pages for a security team.
// Sign-in is OIDC at the `login` IdP; only people whose ID token has the configured claims get in.
// Pages: upstreams (mode, era, pinning, config warnings), pinned definitions waiting for approval
// (diff, Approve), and the audit browser (filters, chain verification). Every action is a POST with
// the session's CSRF token and a same-origin check. No token or secret is ever put on a page.
import type { ConnectedAccounts } from '../connect/accounts.ts';
import type { TokenCacheStats } from '../outbound/token-cache.ts';
import { readForm } from '../http/body.ts';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oauth from 'oauth4webapi';
import { verifyChain, type ChainReport } from '../audit/chain.ts';
import type { AuditEvent, AuditSink } from '../audit/event.ts';
import { isPostgresSink } from '../audit/postgres-guard.ts';
import { SqliteAuditSink } from '../audit/sqlite.ts';
import { isLoopback, type DeputyConfig } from '../config/schema.ts';
import { OAuthClient } from '../connect/oauth.ts';
import { cookieValue, escapeHtml, sendPage } from '../connect/pages.ts';
import { Sealer } from '../connect/seal.ts';
import type { PinKind, ToolPins } from '../governance/pins.ts';
import { definitionDiff } from '../governance/diff.ts';
import { log } from '../log.ts';
import { claimMatches } from '../policy/tools.ts';
import type { UpstreamLink } from '../upstreams/link.ts';
import { adminPage, type Section } from './pages.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Flow {
  state: string;
  verifier: string;
  nonce: string;
  back: string;
}
interface Session {
  sub: string;
  csrf: string;
}

const FLOW = 'deputy_admin_flow';
const SESSION = 'deputy_admin';
const SESSION_MS = 30 * 60_000;

export interface ConsoleDeps {
  config: DeputyConfig;
  pins: ToolPins;
  audit: () => AuditSink;
  links: Map<string, UpstreamLink>;
  /** Live numbers for the state page: token cache, quota decisions, sessions, exporters. */
  state: () => { tokenCache: TokenCacheStats; quotaDecisions: Map<string, number>; sessions: { sessions: number; principals: number }; exporters: { name: string; sent: number; failures: number; lastError?: string }[] };
  accounts?: ConnectedAccounts;
}

export function adminConsole(deps: ConsoleDeps): { get: Map<string, Handler>; post: Map<string, Handler> } {
  const { config } = deps;
  const admin = config.admin!;
  const base = config.server.publicUrl;
  // Sessions survive restarts and cross replicas only with a shared key (state.encryption_key).
  const sealer = new Sealer([config.state.encryptionKey?.value() ?? randomBytes(32).toString('hex')]);
  const signIn = new OAuthClient({ issuer: config.login!.issuer, client: config.login!.client, redirectUri: `${base}/admin/callback`, scope: admin.scope, timeoutMs: 10_000 });
  const secure = !(base.startsWith('http:') && isLoopback(new URL(base).hostname));
  const cookie = (name: string, value: string, maxAgeS: number) => `${name}=${value}; Path=/admin; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
  const read = <T>(req: IncomingMessage, name: string, purpose: 'admin-flow' | 'admin-session'): T | undefined => {
    const raw = cookieValue(req, name);
    const opened = raw ? sealer.open<T>(purpose, raw) : undefined;
    return opened && 'value' in opened ? opened.value : undefined;
  };
  const url = (req: IncomingMessage) => new URL(req.url ?? '/', base);

  /** The signed-in admin, or a redirect to sign in (GET) / a refusal (POST). */
  const authed = (fn: (req: IncomingMessage, res: ServerResponse, s: Session) => Promise<void>, method: 'GET' | 'POST'): Handler => (req, res) => {
    const session = read<Session>(req, SESSION, 'admin-session');
    const run = async () => {
      if (!session) {
        if (method === 'POST') return sendPage(res, 403, { title: 'Not signed in', message: 'Your admin session has expired.', hint: 'Open /admin again.' });
        const flow: Flow = { state: rnd(), verifier: oauth.generateRandomCodeVerifier(), nonce: rnd(), back: url(req).pathname + url(req).search };
        const to = await signIn.authorizationUrl(flow);
        return void res.writeHead(302, { location: to.href, 'set-cookie': cookie(FLOW, sealer.seal('admin-flow', flow, 600_000), 600), 'cache-control': 'no-store' }).end();
      }
      await fn(req, res, session);
    };
    run().catch((error: unknown) => {
      log.warn('admin console request failed', { path: url(req).pathname, error: (error as Error).message.slice(0, 200) });
      if (!res.headersSent) sendPage(res, 502, { title: 'Something went wrong', message: 'The admin console could not complete this request.' });
    });
  };

  const callback: Handler = (req, res) => {
    const flow = read<Flow>(req, FLOW, 'admin-flow');
    (async () => {
      if (!flow) return sendPage(res, 400, { title: 'Start again', message: 'This sign-in does not belong to this browser (it expired, or cookies are blocked).', hint: 'Open /admin again.' });
      let who;
      try {
        who = (await signIn.redeem(url(req), flow)).identity;
      } catch {
        return sendPage(res, 400, { title: 'Sign-in failed', message: 'The sign-in answer could not be verified.', hint: 'Open /admin again.' }, { 'set-cookie': cookie(FLOW, '', 0) });
      }
      const allowed = who && Object.entries(admin.requireClaims).every(([name, accepted]) => claimMatches(who.claims[name], accepted));
      if (!who || !allowed) {
        log.warn('admin console sign-in refused: the required claims are missing', { subject: who?.subject.slice(0, 64) });
        return sendPage(res, 403, { title: 'Not an admin', message: 'Your account does not have access to the Deputy admin console.', hint: 'Ask for the admin group at your identity provider.' }, { 'set-cookie': cookie(FLOW, '', 0) });
      }
      const session: Session = { sub: who.subject, csrf: rnd() };
      res.writeHead(303, { location: flow.back.startsWith('/admin') ? flow.back : '/admin', 'set-cookie': [cookie(FLOW, '', 0), cookie(SESSION, sealer.seal('admin-session', session, SESSION_MS), SESSION_MS / 1000)], 'cache-control': 'no-store' }).end();
    })().catch(() => !res.headersSent && sendPage(res, 502, { title: 'Could not sign in', message: 'The identity provider could not be reached.' }));
  };

  const send = (res: ServerResponse, s: Session, section: Section, title: string, body: string) => adminPage(res, { section, title, who: s.sub, body });

  const overview = authed(async (_req, res, s) => {
    // Health and latency from this store's audit trail: the last 15 minutes of calls per upstream.
    const recent = await deps.audit().query({ since: new Date(Date.now() - 15 * 60_000), limit: 5000 }).catch(() => []);
    const health = (name: string) => {
      const calls = recent.filter((e) => e.upstream === name && e.httpMethod !== '-');
      if (!calls.length) return { state: 'no calls in 15 min', latency: '—' };
      const failed = calls.filter((e) => e.outcome === 'upstream_error' || e.outcome === 'credential_error');
      const last = calls.at(-1)!;
      const state = last.outcome === 'upstream_error' || last.outcome === 'credential_error' ? `failing: ${last.detail ?? last.outcome}` : failed.length ? `ok (${failed.length} of ${calls.length} failed)` : `ok (${calls.length} calls)`;
      const ms = calls.map((e) => e.latencyMs).sort((a, b) => a - b);
      const at = (q: number) => Math.round(ms[Math.ceil(ms.length * q) - 1]!);
      return { state, latency: `${at(0.5)} / ${at(0.95)} ms` };
    };
    const rows = config.upstreams.map((u) => {
      const era = u.type === 'mcp' ? (deps.links.get(u.name)?.knownEra(u.protocol) ?? (u.protocol === 'auto' ? 'not yet probed' : u.protocol)) : 'REST (OpenAPI)';
      const warnings = config.warnings.filter((w) => w.path.startsWith(`upstreams[${config.upstreams.indexOf(u)}]`) || w.message.includes(`'${u.name}'`)).map((w) => w.message);
      const h = health(u.name);
      return `<tr><th scope="row">${escapeHtml(u.name)}</th><td>${u.type}</td><td>${escapeHtml(u.credentials.type)}</td><td>${escapeHtml(String(era))}</td><td>${escapeHtml(u.pinning ?? config.pinning)}</td><td>${escapeHtml(h.state.slice(0, 200))}</td><td>${h.latency}</td><td>${warnings.length ? `<ul>${warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : '—'}</td></tr>`;
    });
    send(res, s, 'upstreams', 'Upstreams', `<table><caption>Upstreams behind Deputy</caption><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Credential mode</th><th scope="col">Protocol era</th><th scope="col">Pinning</th><th scope="col">Health (15 min)</th><th scope="col">Latency p50 / p95</th><th scope="col">Warnings</th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
  }, 'GET');

  const statePage = authed(async (_req, res, s) => {
    const st = deps.state();
    const row = (k: string, v: string | number) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`;
    const quota = [...st.quotaDecisions].map(([k, n]) => row(k.replace('\u0000', ' · '), n)).join('') || row('no quota decisions yet', '—');
    const exporters = st.exporters.map((x) => row(x.name, `${x.sent} sent${x.failures ? `, failing (${x.failures} in a row): ${x.lastError ?? ''}` : ''}`)).join('') || row('no audit.export configured', '—');
    send(res, s, 'state', 'Tokens and quotas', `<table><caption>Upstream token cache (this replica)</caption><tbody>${row('hits', st.tokenCache.hits)}${row('misses (token requests)', st.tokenCache.misses)}${row('coalesced', st.tokenCache.coalesced)}${row('failures', st.tokenCache.failures)}${row('entries', st.tokenCache.size)}</tbody></table>
<table><caption>Quota decisions (scope · result)</caption><tbody>${quota}</tbody></table>
<table><caption>Sessions and audit export</caption><tbody>${row('sessions', st.sessions.sessions)}${row('principals with sessions', st.sessions.principals)}${exporters}</tbody></table>`);
  }, 'GET');

  const accountsPage = authed(async (req, res, s) => {
    if (!deps.accounts) return send(res, s, 'accounts', 'Connected accounts', '<p role="status">No upstream uses user_oauth (connected accounts are off).</p>');
    const done = url(req).searchParams.get('revoked');
    const rows = (await deps.accounts.vault.list()).map((a) => `<tr><th scope="row">${escapeHtml(a.subject)}</th><td>${escapeHtml(a.upstream)}</td><td>${escapeHtml(a.scope ?? '—')}</td><td>${new Date(a.connectedAt).toISOString().slice(0, 16)}</td><td>${a.lastUsedAt ? new Date(a.lastUsedAt).toISOString().slice(0, 16) : 'never'}</td><td><form method="post" action="/admin/accounts/revoke"><input type="hidden" name="csrf" value="${escapeHtml(s.csrf)}"><input type="hidden" name="issuer" value="${escapeHtml(a.issuer)}"><input type="hidden" name="subject" value="${escapeHtml(a.subject)}"><input type="hidden" name="upstream" value="${escapeHtml(a.upstream)}"><button type="submit" aria-label="Revoke ${escapeHtml(a.upstream)} for ${escapeHtml(a.subject)}">Revoke</button></form></td></tr>`);
    send(res, s, 'accounts', 'Connected accounts', `${done ? `<p role="status">Revoked ${escapeHtml(done.slice(0, 200))}.</p>` : ''}${rows.length ? `<table><caption>Every person's connected accounts</caption><thead><tr><th scope="col">User</th><th scope="col">Upstream</th><th scope="col">Scopes</th><th scope="col">Connected (UTC)</th><th scope="col">Last used</th><th scope="col"><span class="sr">Action</span></th></tr></thead><tbody>${rows.join('')}</tbody></table>` : '<p role="status">Nobody has connected an account yet.</p>'}`);
  }, 'GET');

  const revoke = authed(async (req, res, s) => {
    const form = await readForm(req);
    if (!deps.accounts || !form || form.get('csrf') !== s.csrf || (req.headers.origin !== undefined && req.headers.origin !== new URL(base).origin)) {
      return sendPage(res, 403, { title: 'Not allowed', message: 'This request did not come from the admin console.', hint: 'Open /admin/accounts again.' });
    }
    const key = { issuer: form.get('issuer') ?? '', subject: form.get('subject') ?? '', upstream: form.get('upstream') ?? '' };
    const r = await deps.accounts.disconnect(key);
    res.writeHead(303, { location: r.deleted ? `/admin/accounts?revoked=${encodeURIComponent(`${key.upstream} for ${key.subject}`)}` : '/admin/accounts', 'cache-control': 'no-store' }).end();
  }, 'POST');

  const pinsPage = authed(async (req, res, s) => {
    const pending = await deps.pins.pending();
    const done = url(req).searchParams.get('approved');
    const items = pending.map((p) => {
      const lines = definitionDiff(p).map((l) => `<span class="${l[0] === '+' ? 'add' : l[0] === '-' ? 'del' : ''}">${escapeHtml(l)}</span>`).join('\n');
      return `<section aria-label="${escapeHtml(`${p.upstream} ${p.kind} ${p.name}`)}"><h2>${escapeHtml(p.upstream)} · ${escapeHtml(p.kind.replace('_', ' '))} <code>${escapeHtml(p.name)}</code></h2><p class="hint">Changed ${new Date(p.changedAt!).toISOString()}</p><pre>${lines}</pre><form method="post" action="/admin/pins/approve"><input type="hidden" name="csrf" value="${escapeHtml(s.csrf)}"><input type="hidden" name="upstream" value="${escapeHtml(p.upstream)}"><input type="hidden" name="kind" value="${escapeHtml(p.kind)}"><input type="hidden" name="name" value="${escapeHtml(p.name)}"><button type="submit">Approve ${escapeHtml(p.name)}</button></form></section>`;
    });
    send(res, s, 'pins', 'Pinned definitions', `${done ? `<p role="status">Approved ${escapeHtml(done.slice(0, 200))}.</p>` : ''}${items.length ? items.join('') : '<p role="status">No changes waiting for approval.</p>'}`);
  }, 'GET');

  const approve = authed(async (req, res, s) => {
    const form = await readForm(req);
    if (!form || form.get('csrf') !== s.csrf || (req.headers.origin !== undefined && req.headers.origin !== new URL(base).origin)) {
      return sendPage(res, 403, { title: 'Not allowed', message: 'This request did not come from the admin console.', hint: 'Open /admin/pins again.' });
    }
    const upstream = form.get('upstream') ?? '';
    const name = form.get('name') ?? '';
    const kind = form.get('kind') as PinKind;
    const ok = ['tool', 'prompt', 'resource_template'].includes(kind) && (await deps.pins.approve(upstream, kind, name, s.sub));
    res.writeHead(303, { location: ok ? `/admin/pins?approved=${encodeURIComponent(`${upstream}/${name}`)}` : '/admin/pins', 'cache-control': 'no-store' }).end();
  }, 'POST');

  const auditPage = authed(async (req, res, s) => {
    const q = url(req).searchParams;
    const f = { user: q.get('user') ?? '', upstream: q.get('upstream') ?? '', tool: q.get('tool') ?? '', outcome: q.get('outcome') ?? '', since: q.get('since') ?? '' };
    const sinceMs = /^\d+$/.test(f.since) ? Date.now() - Number(f.since) * 60_000 : undefined;
    const events = (await deps.audit().query({ since: sinceMs ? new Date(sinceMs) : undefined, limit: 2000 }))
      .filter((e) => (!f.user || e.subject === f.user) && (!f.upstream || e.upstream === f.upstream) && (!f.tool || e.target === f.tool) && (!f.outcome || e.outcome === f.outcome))
      .slice(-200).reverse();
    const chain = await chainStatus(deps.audit());
    const input = (name: keyof typeof f, label: string) => `<label>${label} <input name="${name}" value="${escapeHtml(f[name])}"></label>`;
    const rows = events.map((e: AuditEvent) => `<tr><td>${escapeHtml(e.time.slice(0, 19).replace('T', ' '))}</td><td>${escapeHtml(e.subject ?? '—')}</td><td>${escapeHtml(e.upstream ?? '—')}</td><td>${escapeHtml(e.rpcMethod ?? e.httpMethod)}</td><td>${escapeHtml(e.target ?? '')}</td><td class="o-${escapeHtml(e.outcome)}">${escapeHtml(e.outcome)}</td><td>${e.status}</td><td>${e.latencyMs}</td></tr>`);
    // Per minute of the shown events: how many, and how long the slowest twentieth of the requests took.
    const minutes = new Map<string, { events: number; latencies: number[] }>();
    for (const e of [...events].reverse()) {
      const m = minutes.get(e.time.slice(11, 16)) ?? { events: 0, latencies: [] };
      m.events++;
      if (e.httpMethod !== '-') m.latencies.push(e.latencyMs); // Deputy's own events (pins, accounts) take no time
      minutes.set(e.time.slice(11, 16), m);
    }
    const counts = [...minutes].map(([m, x]) => [m, x.events] as const);
    const p95 = [...minutes].filter(([, x]) => x.latencies.length).map(([m, { latencies: l }]) => [m, [...l].sort((a, b) => a - b)[Math.ceil(l.length * 0.95) - 1]!] as const);
    send(res, s, 'audit', 'Audit trail', `<p role="status" class="${chain.ok ? 'ok' : 'bad'}">Hash chain: ${chain.ok ? `intact (${chain.events} events, ${chain.replicas.length} replica${chain.replicas.length === 1 ? '' : 's'})` : `BROKEN at ${escapeHtml(chain.breaks.map((b) => `${b.replicaId} seq ${b.seq}: ${b.problem}`).join('; '))}`}</p>
<form method="get" action="/admin/audit" class="filters">${input('user', 'User')}${input('upstream', 'Upstream')}${input('tool', 'Tool')}${input('outcome', 'Outcome')}${input('since', 'Last minutes')}<button type="submit">Filter</button></form>
<div class="charts">${barChart('Events per minute (shown events)', counts, 'events')}${barChart('Latency per minute, p95 (ms)', p95, 'ms')}</div>
<table><caption>${events.length} most recent matching events</caption><thead><tr><th scope="col">Time (UTC)</th><th scope="col">User</th><th scope="col">Upstream</th><th scope="col">Method</th><th scope="col">Target</th><th scope="col">Outcome</th><th scope="col">Status</th><th scope="col">ms</th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
  }, 'GET');

  return {
    get: new Map<string, Handler>([['/admin', overview], ['/admin/state', statePage], ['/admin/accounts', accountsPage], ['/admin/pins', pinsPage], ['/admin/audit', auditPage], ['/admin/callback', callback]]),
    post: new Map<string, Handler>([['/admin/pins/approve', approve], ['/admin/accounts/revoke', revoke]]),
  };
}

const rnd = () => randomBytes(32).toString('base64url');

/** A small bar chart, oldest minute first; each bar carries its figure for screen readers and on hover. */
function barChart(caption: string, points: readonly (readonly [string, number])[], unit: string): string {
  const max = Math.max(1, ...points.map(([, n]) => n));
  const bars = points.map(([m, v]) => [m, Math.round(v)] as const).map(([m, n]) => `<div class="bar" style="height:${Math.round((n / max) * 60) + 2}px" title="${m}: ${n} ${unit}"><span class="sr">${m}: ${n} ${unit}</span></div>`).join('');
  return `<figure><figcaption>${escapeHtml(caption)}</figcaption><div class="chart">${bars || '<p class="hint">No data</p>'}</div></figure>`;
}

async function chainStatus(audit: AuditSink): Promise<ChainReport> {
  if (audit instanceof SqliteAuditSink) {
    const { rows, unchained } = await audit.chainRows();
    return verifyChain(rows, unchained);
  }
  if (isPostgresSink(audit)) return verifyChain(audit.chainRows());
  return { ok: true, replicas: [], events: 0, unchained: 0, breaks: [] };
}
