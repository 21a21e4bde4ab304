// The connect flow a person follows from a link their MCP client showed them:
//   GET /connect?t=…               the link: sealed, short-lived, made for one person
//   GET /connect/login/callback    they signed in at the IdP: must be the person the link names (the
//                                  link is spent here, so it works once)
//   GET /connect/callback          they allowed access at the upstream's authorization server
// Between the steps the flow's state (OAuth state, PKCE verifier, nonce, the link) lives in a sealed,
// HttpOnly, SameSite=Lax cookie scoped to /connect, so any replica can take the next step. Every
// refusal is a page that says what happened and what to do; none shows a token, code or state.
import { readForm } from '../http/body.ts';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oauth from 'oauth4webapi';
import { isLoopback } from '../config/schema.ts';
import { log } from '../log.ts';
import { LINK_TTL_MS, type ConnectedAccounts, type LinkTicket } from './accounts.ts';
import { sendJson } from '../http/respond.ts';
import { CLIENT_METADATA_PATH, ClientIdentityError } from './client-identity.ts';
import type { OAuthClient } from './oauth.ts';
import { cookieValue, sendConnectionsPage, sendPage } from './pages.ts';

const COOKIE = 'deputy_connect';
const FLOW_TTL_MS = 10 * 60_000;

interface Flow {
  /** The link being followed; absent when the person signs in to manage their connections. */
  t?: LinkTicket;
  stage: 'login' | 'upstream' | 'manage';
  state: string;
  verifier: string;
  nonce?: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The signed-in person on /connections, and the token its forms must echo (CSRF). */
interface Session {
  i: string;
  s: string;
  csrf: string;
}

const SESSION_COOKIE = 'deputy_session';
const SESSION_TTL_MS = 30 * 60_000;

export const CONNECT_PATHS = { link: '/connect', login: '/connect/login/callback', callback: '/connect/callback', manage: '/connections', disconnect: '/connections/disconnect' } as const;

export function connectRoutes(accounts: ConnectedAccounts, login: OAuthClient, publicUrl: string): { get: Map<string, Handler>; post: Map<string, Handler> } {
  const secure = !(publicUrl.startsWith('http:') && isLoopback(new URL(publicUrl).hostname));
  const cookie = (value: string, maxAge: number) => `${COOKIE}=${value}; Path=/connect; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
  const setFlow = (flow: Flow) => cookie(accounts.sealer.seal('connect-flow', flow, FLOW_TTL_MS), FLOW_TTL_MS / 1000);
  const clear = cookie('', 0);
  const random = () => randomBytes(32).toString('base64url');
  const again = 'Call the tool again from your MCP client to get a new link.';

  const readFlow = (req: IncomingMessage, ...stages: Flow['stage'][]): Flow | undefined => {
    const raw = cookieValue(req, COOKIE);
    const opened = raw ? accounts.sealer.open<Flow>('connect-flow', raw) : undefined;
    return opened && 'value' in opened && stages.includes(opened.value.stage) ? opened.value : undefined;
  };
  const readSession = (req: IncomingMessage): Session | undefined => {
    const raw = cookieValue(req, SESSION_COOKIE);
    const opened = raw ? accounts.sealer.open<Session>('connect-session', raw) : undefined;
    return opened && 'value' in opened ? opened.value : undefined;
  };
  const sessionCookie = (session: Session | undefined) => `${SESSION_COOKIE}=${session ? accounts.sealer.seal('connect-session', session, SESSION_TTL_MS) : ''}; Path=/connections; HttpOnly; SameSite=Lax; Max-Age=${session ? SESSION_TTL_MS / 1000 : 0}${secure ? '; Secure' : ''}`;
  const currentUrl = (req: IncomingMessage) => new URL(req.url ?? '/', publicUrl);
  const wrap = (fn: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Handler => (req, res) => {
    fn(req, res).catch((error: unknown) => {
      if (error instanceof ClientIdentityError) {
        // A configuration problem, not the person's: the operator's message goes to the log only.
        log.error('connected accounts: no client at the upstream\'s authorization server', { upstream: error.upstream, reason: error.message });
        if (!res.headersSent) sendPage(res, 502, { title: `Deputy cannot connect ${error.upstream} accounts yet`, message: `Deputy has no client at the authorization server of ${error.upstream}. An operator must set one up; the details are in Deputy's log.`, hint: 'Try again once an operator has fixed it.' }, { 'set-cookie': clear });
        return;
      }
      log.warn('connect flow step failed', { path: currentUrl(req).pathname, error: (error as Error).name, reason: (error as Error).message.slice(0, 200) });
      if (!res.headersSent) sendPage(res, 502, { title: 'Could not continue', message: 'Deputy could not reach an authorization server to continue connecting your account.', hint: again }, { 'set-cookie': clear });
    });
  };

  // 1. The link: open it, spend it, and send the person to sign in.
  const link = wrap(async (req, res) => {
    const opened = accounts.sealer.open<LinkTicket>('connect-link', currentUrl(req).searchParams.get('t'));
    if ('refused' in opened) {
      return opened.refused === 'expired'
        ? sendPage(res, 410, { title: 'This link has expired', message: `Connect links work for ${LINK_TTL_MS / 60_000} minutes.`, hint: again })
        : sendPage(res, 400, { title: 'This link is not valid', message: 'The connect link is incomplete or was altered.', hint: again });
    }
    const t = opened.value;
    const flow: Flow = { t, stage: 'login', state: random(), verifier: oauth.generateRandomCodeVerifier(), nonce: random() };
    const to = await login.authorizationUrl(flow);
    res.writeHead(302, { location: to.href, 'set-cookie': setFlow(flow), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();
  });

  // 2. Signed in at the IdP: it must be the person the link was made for.
  const signedIn = wrap(async (req, res) => {
    const flow = readFlow(req, 'login', 'manage');
    if (!flow) return sendPage(res, 400, { title: 'Start again', message: 'This sign-in does not belong to a connect flow in this browser (it expired, or cookies are blocked).', hint: again }, { 'set-cookie': clear });
    let who;
    try {
      who = (await login.redeem(currentUrl(req), flow)).identity;
    } catch (error) {
      return refuseCallback(res, error, 'sign-in', clear, again);
    }
    if (who && flow.stage === 'manage') {
      // Signed in to manage connections: a short session for /connections, with its CSRF token.
      const session: Session = { i: who.issuer, s: who.subject, csrf: random() };
      return void res.writeHead(303, { location: CONNECT_PATHS.manage, 'set-cookie': [clear, sessionCookie(session)], 'cache-control': 'no-store' }).end();
    }
    if (!flow.t || !who || who.issuer !== flow.t.i || who.subject !== flow.t.s) {
      log.warn('a connect link was opened by another user', { upstream: flow.t?.u });
      return sendPage(res, 403, { title: 'This link was made for someone else', message: 'You signed in as a different user than the one who asked to connect. Nothing was connected.', hint: 'Sign in as the person who asked for the link, or ask them to open it themselves.' }, { 'set-cookie': clear });
    }
    // Spent only now, by the person it was made for: a link preview or someone else opening it first
    // cannot burn it, and it works once.
    if (!(await accounts.vault.useTicket(flow.t.j, Date.now() + LINK_TTL_MS))) {
      return sendPage(res, 409, { title: 'This link was already used', message: 'Each connect link works once.', hint: again }, { 'set-cookie': clear });
    }
    const upstream = accounts.client(flow.t.u);
    if (!upstream) return sendPage(res, 404, { title: 'Unknown service', message: `Deputy no longer connects accounts for '${flow.t.u}'.` }, { 'set-cookie': clear });
    const next: Flow = { t: flow.t, stage: 'upstream', state: random(), verifier: oauth.generateRandomCodeVerifier() };
    const to = await upstream.authorizationUrl(next, flow.t.sc);
    res.writeHead(302, { location: to.href, 'set-cookie': setFlow(next), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();
  });

  // 3. Back from the upstream's authorization server: redeem the code, store the tokens.
  const callback = wrap(async (req, res) => {
    const flow = readFlow(req, 'upstream');
    if (!flow?.t) return sendPage(res, 400, { title: 'Start again', message: 'This answer does not belong to a connect flow in this browser (it expired, or cookies are blocked).', hint: again }, { 'set-cookie': clear });
    const upstream = accounts.client(flow.t.u);
    if (!upstream) return sendPage(res, 404, { title: 'Unknown service', message: `Deputy no longer connects accounts for '${flow.t.u}'.` }, { 'set-cookie': clear });
    let tokens;
    try {
      tokens = (await upstream.redeem(currentUrl(req), flow)).tokens;
    } catch (error) {
      return refuseCallback(res, error, flow.t.u, clear, again);
    }
    await accounts.connected(flow.t, tokens);
    sendPage(res, 200, { title: `Connected to ${flow.t.u}`, message: `Your ${flow.t.u} account is connected to Deputy.`, hint: 'You can close this page and go back to your MCP client.' }, { 'set-cookie': clear });
  });

  // The person's own connections: listed after signing in at the IdP, each with Disconnect.
  const manage = wrap(async (req, res) => {
    const session = readSession(req);
    if (!session) {
      const flow: Flow = { stage: 'manage', state: random(), verifier: oauth.generateRandomCodeVerifier(), nonce: random() };
      const to = await login.authorizationUrl(flow);
      return void res.writeHead(302, { location: to.href, 'set-cookie': setFlow(flow), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();
    }
    const rows = await accounts.vault.list({ issuer: session.i, subject: session.s });
    const notice = currentUrl(req).searchParams.get('done');
    sendConnectionsPage(res, session.s, rows, session.csrf, notice === 'disconnected' ? 'Disconnected.' : undefined);
  });

  const disconnect = wrap(async (req, res) => {
    const session = readSession(req);
    const origin = req.headers.origin;
    const form = await readForm(req);
    if (!session || !form || form.get('csrf') !== session.csrf || (origin !== undefined && origin !== new URL(publicUrl).origin)) {
      return sendPage(res, 403, { title: 'Not allowed', message: 'This request did not come from your connections page (or your sign-in expired).', hint: `Open ${CONNECT_PATHS.manage} again.` });
    }
    const upstream = form.get('upstream') ?? '';
    await accounts.disconnect({ issuer: session.i, subject: session.s, upstream });
    res.writeHead(303, { location: `${CONNECT_PATHS.manage}?done=disconnected`, 'cache-control': 'no-store' }).end();
  });

  const get = new Map<string, Handler>([[CONNECT_PATHS.link, link], [CONNECT_PATHS.login, signedIn], [CONNECT_PATHS.callback, callback], [CONNECT_PATHS.manage, manage]]);
  // Deputy's Client ID Metadata Document: public, fetched by authorization servers (client-identity.ts).
  const metadata = accounts.clientMetadata;
  if (metadata) get.set(CLIENT_METADATA_PATH, (_req, res) => sendJson(res, 200, metadata, { 'cache-control': 'public, max-age=3600', 'access-control-allow-origin': '*' }));
  return {
    get,
    post: new Map<string, Handler>([[CONNECT_PATHS.disconnect, disconnect]]),
  };
}

/** A refused or forged authorization response: the person declined, or state/iss/code did not check out. */
function refuseCallback(res: ServerResponse, error: unknown, where: string, clear: string, again: string): void {
  if (error instanceof oauth.AuthorizationResponseError) {
    const denied = error.error === 'access_denied';
    return sendPage(res, 403, { title: denied ? 'Access was not allowed' : 'The authorization server refused', message: denied ? 'Nothing was connected.' : `The ${where} ended with "${error.error.slice(0, 60)}". Nothing was connected.`, hint: again }, { 'set-cookie': clear });
  }
  if (error instanceof oauth.OperationProcessingError || error instanceof oauth.ResponseBodyError) {
    return sendPage(res, 400, { title: 'This answer could not be verified', message: `The ${where} answer did not match this flow (state, issuer or code). Nothing was connected.`, hint: again }, { 'set-cookie': clear });
  }
  throw error;
}
