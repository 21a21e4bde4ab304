// Rule `jwt-no-audience`: a JWT is decoded or verified without checking its audience, judged per call (a comment or
// another call mentioning "audience" clears nothing). Not gated on MCP context: accepting tokens minted for another
// service is a bug in any server.
import { FUNCTION_TYPES, descendants, enclosingFunction, functionName, makeFinding, reQuote, shortText, stringValue, type FileContext } from '../context.ts';
import type { Finding, Level, RuleMeta } from '../finding.ts';
import { emptyImports, qualify, type Imports } from '../imports.ts';
import type { Node } from '../parser.ts';
import { HELP_URI } from './authorization-passthrough.ts';

export const JWT_RULE = 'jwt-no-audience';

export const jwtNoAudience: RuleMeta = {
  id: JWT_RULE,
  name: 'JwtNoAudience',
  shortDescription: 'JWT decoded or verified without an audience check',
  fullDescription:
    'A JWT is accepted without validating its `aud` claim (no audience argument, audience verification switched off, ' +
    'or signature verification switched off). Any token with a valid signature from the same issuer, whatever service ' +
    'it was issued for, is then accepted: the audience boundary OAuth relies on is gone.',
  help:
    'Pass the audience this server expects (its canonical resource URI) to every decode/verify call, and never turn ' +
    'off `verify_aud` or `verify_signature`. For FastMCP verifiers, set `audience=`.',
  helpMarkdown: [
    '**JWT accepted without an audience check.** Tokens minted for other services are accepted here.',
    '',
    'Pass the expected audience (this server\'s canonical resource URI, RFC 8707) on every call:',
    '',
    '```python',
    'claims = jwt.decode(token, key, algorithms=["RS256"], audience="https://mcp.example.com")',
    '```',
    '```ts',
    "const { payload } = await jwtVerify(token, jwks, { issuer, audience: 'https://mcp.example.com' });",
    '```',
    '',
    'Never pass `options={"verify_aud": False}` or `{"verify_signature": False}` for tokens you act on.',
  ].join('\n'),
  helpUri: HELP_URI,
  defaultLevel: 'error',
  tags: ['security', 'mcp', 'oauth', 'jwt', 'external/cwe/cwe-287'],
  securitySeverity: 7.5,
};

const FIX_AUDIENCE = 'Pass the audience this server expects (its canonical resource URI), e.g. `audience=RESOURCE_URI`.';
const FIX_OPTIONS = 'Remove the option that disables verification and pass `audience=` with this server\'s resource URI.';

type Lib = 'pyjwt' | 'python-jose' | 'authlib' | 'fastmcp' | 'jose' | 'jsonwebtoken' | 'hono' | 'options-object';

const CALLS = new Set(['call', 'call_expression']);

/**
 * A finding, and whether its decode is a verification helper that returns the claims (`return jwt.decode(…)`,
 * `const { payload } = await jwtVerify(…); return payload`) with the audience left to check to its callers: when the
 * project checks `aud` by hand somewhere (`payload.aud !== "mcp"`), the caller is taken to do it.
 */
export interface JwtFinding {
  finding: Finding;
  /** The name of the verification helper whose claims the caller gets (undefined: not a helper that returns them). */
  helper?: string;
  /** A one-branch warning gated by this setting: dropped when the project's settings default it to `True`. */
  gate?: string;
  /** An audience taken from an optional parameter: dropped when every call of the function in the project passes it. */
  optional?: { fn: string; index: number };
  /** An audience read from this setting: kept only when the project's settings declare it empty by default. */
  emptySetting?: string;
}

/** Functions called from a function that checks `aud` by hand: the helpers whose callers check the audience. */
export function audienceCheckingCallers(ctx: FileContext): Set<string> {
  const out = new Set<string>();
  const fns = descendants(ctx.tree.rootNode, FUNCTION_TYPES);
  for (const fn of fns) {
    // …by hand here, or through a helper of this file (`if (!audienceMatches(payload, req.url)) return`).
    if (!checksAudienceInCode(fn.text) && !sameFileCallees(fn, fns, handsClaims(new Set())).some((other) => checksAudienceInCode(other.text))) continue;
    for (const call of descendants(fn, CALLS)) {
      const name = calledName(call);
      if (name) out.add(name);
    }
  }
  return out;
}

/** The name a call calls: `f` of `f(…)`, `verify` of `jwt.verify(…)` / `self.verify(…)`. */
function calledName(call: Node): string | undefined {
  let callee = call.childForFieldName('function');
  if (callee?.type === 'await_expression') callee = callee.namedChildren[0] ?? null;
  return callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : callee?.type === 'member_expression' ? callee.childForFieldName('property')?.text : callee?.text;
}

/**
 * Functions that hand back what a call returned (`return verify(token)`, `claims = decode(t); …; return claims`), as
 * `[function, callee]` pairs: when a caller checks `aud` on what such a wrapper returns, it checks it for the callee
 * too (`unpack_access` wrapping a hand-rolled `jwt_decode`).
 */
export function claimsWrappers(ctx: FileContext): Array<[string, string]> {
  if (!/decode|verify/i.test(ctx.source) || !/jwt|token|claim/i.test(ctx.source)) return [];
  const out: Array<[string, string]> = [];
  // The name called by an expression that is a call, awaited or parenthesized or not.
  const calleeName = (n: Node | null | undefined): string | undefined => {
    while (n && (n.type === 'await' || n.type === 'await_expression' || n.type === 'parenthesized_expression')) n = n.namedChildren[0];
    return n && CALLS.has(n.type) ? calledName(n) : undefined;
  };
  // One walk per function body, not into the functions nested in it (each is visited as a function of its own).
  const visit = (fn: Node, name: string) => {
    const returned: Node[] = [];
    const assignedFrom = new Map<string, string[]>();
    const walk = (n: Node) => {
      for (const c of n.namedChildren) {
        if (!c || FUNCTION_TYPES.has(c.type)) continue;
        if (c.type === 'return_statement' && c.namedChildren[0]) returned.push(c.namedChildren[0]);
        if (c.type === 'assignment' || c.type === 'variable_declarator') {
          const left = c.childForFieldName('left') ?? c.childForFieldName('name');
          const callee = calleeName(c.childForFieldName('right') ?? c.childForFieldName('value'));
          if (left?.type === 'identifier' && callee) assignedFrom.set(left.text, [...(assignedFrom.get(left.text) ?? []), callee]);
        }
        walk(c);
      }
    };
    const body = fn.childForFieldName('body');
    if (body) walk(body);
    for (const e of returned) {
      const direct = calleeName(e);
      if (direct) out.push([name, direct]);
      // …through the name it was assigned to (`claims = decode(t)`, `const claims = await verify(t)`).
      else if (e.type === 'identifier') for (const callee of assignedFrom.get(e.text) ?? []) out.push([name, callee]);
    }
  };
  for (const fn of descendants(ctx.tree.rootNode, FUNCTION_TYPES)) {
    const name = functionName(fn);
    if (name) visit(fn, name);
  }
  return out;
}

/**
 * `arities`, when given, gets the fewest arguments each verifier-like function (`verifyToken`, `validate_jwt`) is called
 * with in this file: whether callers pass an optional audience parameter.
 */
export function checkJwtNoAudience(ctx: FileContext, imports: Imports, arities?: Map<string, number>): JwtFinding[] {
  const out: JwtFinding[] = [];
  const py = ctx.family === 'python';
  const authlibInstances = py ? authlibJwtInstances(ctx.tree.rootNode, imports) : new Set<string>();
  for (const call of descendants(ctx.tree.rootNode, CALLS)) {
    const fn = call.childForFieldName('function');
    if (!fn) continue;
    if (arities) {
      const name = calledName(call);
      if (name && VERIFIER_NAME.test(name)) {
        // (Not the library call inside a wrapper of the same name: `verify(t, aud?)` returning `jwt.verify(t, KEY, …)`.)
        const around = enclosingFunction(call);
        if (!around || functionName(around) !== name) {
          const n = call.childForFieldName('arguments')?.namedChildren.filter((a) => a && a.type !== 'comment').length ?? 0;
          arities.set(name, Math.min(n, arities.get(name) ?? n));
        }
      }
    }
    const q = qualify(fn, imports) ?? '';
    const vendor = vendorVerifierIssue(call, q, py);
    if (vendor) {
      out.push({ finding: makeFinding(ctx, JWT_RULE, vendor.level, vendor.node, vendor.message, vendor.fix), helper: claimsReturned(call) });
      continue;
    }
    const lib = py ? (q ? pythonLib(q, fn, authlibInstances, imports) : undefined) : jsLib(q, imports, call);
    if (!lib) continue;
    const issue = py ? pythonIssue(lib, call, ctx) : jsIssue(lib, call, ctx, q);
    if (issue) out.push({ finding: makeFinding(ctx, JWT_RULE, issue.level, issue.node, issue.message, issue.fix), helper: issue.unsigned ? undefined : claimsReturned(call), gate: issue.gate, optional: issue.optional, emptySetting: issue.emptySetting });
  }
  for (const fn of handRolledVerifiers(ctx)) {
    const name = functionName(fn)!;
    // A verifier that returns the claims leaves the audience to its callers, as a library call returning them does.
    const returnsClaims = descendants(fn, new Set(['return_statement'])).some((r) => r.namedChildren.length > 0);
    out.push({ finding: makeFinding(ctx, JWT_RULE, 'error', fn.childForFieldName('name') ?? fn, `\`${name}\` verifies a JWT by hand (splits it, checks the signature, reads the claims) without checking its \`aud\` claim: a token issued for any audience is accepted.`, 'Use a JWT library with an audience (`jwtVerify(token, key, { audience })`, `jwt.decode(token, key, audience=…)`), or compare `aud` with this server\'s resource URI before accepting the token.'), helper: returnsClaims ? name : undefined });
  }
  for (const fn of unsignedVerifiers(ctx)) {
    const name = functionName(fn)!;
    out.push({ finding: makeFinding(ctx, JWT_RULE, 'error', fn.childForFieldName('name') ?? fn, `\`${name}\` accepts a JWT by decoding its payload, with neither its signature nor its \`aud\` claim checked: anyone can write a token it accepts.`, 'Verify the token with a JWT library against the issuer\'s keys and this server\'s audience (`jwtVerify(token, JWKS, { issuer, audience })`, `jwt.decode(token, key, audience=…)`).') });
  }
  for (const { node, name } of selfAudiences(ctx)) {
    out.push({ finding: makeFinding(ctx, JWT_RULE, 'error', node, `The audience expected here is the token's own \`aud\` claim (read from \`${name}\`, decoded without verification): every token matches the audience it names, so a token issued for any service is accepted.`, 'Expect the audience this server defines (its canonical resource URI, or the client IDs it issues tokens to), never a value read from the token being checked.') });
  }
  for (const call of unverifiedAuthInfo(ctx)) {
    const name = shortText(call.childForFieldName('function')!, 40);
    out.push({ finding: makeFinding(ctx, JWT_RULE, 'error', call, `The caller's identity (an MCP \`AuthInfo\`: \`token\`, \`clientId\`, \`scopes\`) is built from \`${name}(…)\`, which decodes the JWT without verifying it: its signature and \`aud\` claim are never checked, so anyone can write a token that is accepted.`, 'Verify the token with a JWT library against the issuer\'s keys and this server\'s audience (`jwtVerify(token, JWKS, { issuer, audience })`) before building the `AuthInfo` from its claims.') });
  }
  return out;
}

/** Decoders that read a JWT's payload without verifying it (jwt-decode, jsonwebtoken's `decode`, project helpers). */
const UNVERIFIED_DECODER = /^(jwtDecode|jwt_decode|decode(Jwt|JWT|Token|Access[Tt]oken)(Payload|Claims)?|parse(Jwt|JWT|Token)(Payload|Claims)?)$/;

/**
 * Calls that decode a JWT without verifying it in a function that builds the MCP SDK's `AuthInfo` from the result
 * (returns `{ token, clientId, scopes, … }`), with no verification, signature check or request to the issuer around
 * it (here or in the same-file functions it calls): the caller's identity is whatever the token says.
 */
function unverifiedAuthInfo(ctx: FileContext): Node[] {
  if (ctx.family === 'python' || !/clientId/.test(ctx.source) || !/scopes/.test(ctx.source)) return [];
  const fns = descendants(ctx.tree.rootNode, FUNCTION_TYPES);
  const out: Node[] = [];
  for (const fn of fns) {
    const returnsAuthInfo = descendants(fn, new Set(['return_statement'])).some((r) => {
      const obj = r.namedChildren[0] ? unwrapTs(r.namedChildren[0]) : undefined;
      const keys = new Set(obj?.type === 'object' ? obj.namedChildren.filter((c): c is Node => !!c && (c.type === 'pair' || c.type === 'shorthand_property_identifier')).map(propertyName) : []);
      return keys.has('token') && keys.has('clientId') && keys.has('scopes');
    });
    if (!returnsAuthInfo) continue;
    // (Bodies only: the function's own name, `verifyAccessToken`, verifies nothing.)
    const texts = [fn, ...sameFileCallees(fn, fns)].map((f) => (f.childForFieldName('body') ?? f).text);
    const decode = descendants(fn, CALLS).find((c) => {
      const callee = c.childForFieldName('function')?.text ?? '';
      return UNVERIFIED_DECODER.test(callee.split('.').pop()!) || /^(jwt|jsonwebtoken)\.decode$/.test(callee);
    });
    // (Asking the issuer, `supabase.auth.getUser(token)`, or any verify / validate / introspect call is the check.)
    if (!decode || texts.some((t) => SIGNATURE.test(t) || ASKS_REMOTELY.test(t) || /\b(jwtVerify|verify\w*|validate\w*|introspect\w*|getUser|getClaims|authenticate\w*)\s*\(|\bjwt\.verify\b/.test(t))) continue;
    out.push(decode);
  }
  return out;
}

/**
 * Vendor verifiers whose audience is an argument that may be left out or set to null: Google's ID-token verifiers
 * (`id_token.verify_oauth2_token(token, request)`, `client.verifyIdToken({ idToken })`) and aws-jwt-verify's
 * `CognitoJwtVerifier.create({ …, clientId: null })` / `JwtRsaVerifier.create({ …, audience: null })`.
 */
function vendorVerifierIssue(call: Node, q: string, py: boolean): Issue | undefined {
  const args = call.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => !!a && a.type !== 'comment') ?? [];
  const label = shortText(call.childForFieldName('function')!, 40);
  const fix = 'Pass the client ID (audience) your server expects; without it, an ID token issued to any client is accepted.';
  if (py) {
    if (!/(^|\.)id_token\.(verify_oauth2_token|verify_token)$/.test(q)) return undefined;
    const positional = args.filter((a) => a.type !== 'keyword_argument');
    if (audienceKeyword(call) ?? positional.length >= 3) return undefined;
    if (args.some((a) => a.type === 'dictionary_splat')) return undefined;
    return { level: 'error', node: call, message: `\`${label}(…)\` verifies a Google ID token without \`audience\`: a token issued to any Google client is accepted.`, fix };
  }
  const fn = call.childForFieldName('function');
  const member = fn?.type === 'member_expression' ? fn.childForFieldName('property')?.text : undefined;
  const options = args[0]?.type === 'object' ? args[0] : undefined;
  const pairs = options ? options.namedChildren.filter((c): c is Node => !!c && (c.type === 'pair' || c.type === 'shorthand_property_identifier')) : [];
  if (member === 'verifyIdToken' && options && pairs.some((p) => propertyName(p) === 'idToken') && !pairs.some((p) => propertyName(p) === 'audience')) {
    return { level: 'error', node: call, message: `\`${label}({ idToken })\` verifies a Google ID token without \`audience\`: a token issued to any Google client is accepted.`, fix };
  }
  if (/^aws-jwt-verify\.(CognitoJwtVerifier|JwtRsaVerifier)\.create$/.test(q) && options) {
    const nulled = pairs.find((p) => p.type === 'pair' && ['clientId', 'audience'].includes(propertyName(p)) && p.childForFieldName('value')?.type === 'null');
    if (nulled) return { level: 'error', node: nulled, message: `\`${label}({ ${propertyName(nulled)}: null })\` turns off the audience check: a token issued for any client of the issuer is accepted.`, fix: `Set \`${propertyName(nulled)}\` to the client ID (audience) this server expects.` };
  }
  return undefined;
}

/** Library verifiers: a function that calls one is judged by that call. */
const LIBRARY_VERIFY = /\bjwtVerify\b|\bjwt\.(verify|decode)\b|\bjose\.|\bJWTVerifier\b|\bdecode_complete\b|\bjwt\.JWT\(/;
/**
 * A JWT's three parts: `parts.length !== 3`, `parts[2]`, `[h, p, s] = token.split('.')` (a two-part `body.sig` token of
 * the server's own is not a JWT).
 */
const THREE_PARTS = /length\s*[!=]==?\s*3\b|\[\s*2\s*\]|\[\s*\w+\s*,\s*\w+\s*,\s*\w+\s*\]\s*=\s*[\w.]+\.split|\b\w+\s*,\s*\w+\s*,\s*\w+\s*=\s*[\w.]+\.split/;
/** A token split at its dots, and its payload decoded. */
const SPLITS = /split\(\s*['"]\.['"]/;
const PARSES = /JSON\.parse|json\.loads|b64decode|base64/i;
/** Computing or checking a signature: WebCrypto, node:crypto, Python `hmac`, a constant-time compare. */
const SIGNATURE = /\bsubtle\.(verify|sign)\b|\bcreateHmac\b|\bcreateVerify\b|\bcrypto\.verify\b|\bhmac\.new\b|\bcompare_digest\b|\btimingSafeEqual\b/;

/**
 * Functions that verify a JWT without a library: named for it (`validateJWT`, `verify_token`), they split the token
 * at its dots, check a signature (here or in a same-file function they call) and read the payload, and nothing
 * around them reads `aud`.
 */
function handRolledVerifiers(ctx: FileContext): Node[] {
  if (!SPLITS.test(ctx.source) || !SIGNATURE.test(ctx.source)) return [];
  const fns = descendants(ctx.tree.rootNode, FUNCTION_TYPES);
  return fns.filter((fn) => {
    const name = functionName(fn);
    if (!name || !/jwt|token/i.test(name) || !/verify|validate|check|decode|parse|auth/i.test(name) || LIBRARY_VERIFY.test(fn.text)) return false;
    // The function itself and the same-file functions it calls (`parseJWT`, `generateSignature`).
    const texts = [fn.text, ...sameFileCallees(fn, fns).map((f) => f.text)];
    const has = (re: RegExp) => texts.some((t) => re.test(t));
    return has(SPLITS) && has(THREE_PARTS) && has(PARSES) && has(SIGNATURE) && !texts.some(checksAudienceInCode);
  });
}

/**
 * Functions named for verifying a token (`verifyAccessJWT`, `validate_token`) that split it at its dots, decode the
 * payload (`JSON.parse(atob(parts[1]))`) and check its expiry, but compute no signature and read no `aud`: the claims
 * are whatever the caller wrote. (A helper that only reads `exp`, such as `isTokenExpired`, is not named for verifying.)
 */
function unsignedVerifiers(ctx: FileContext): Node[] {
  if (!SPLITS.test(ctx.source) || (!EXPIRY.test(ctx.source) && !SUBJECT.test(ctx.source))) return [];
  const fns = descendants(ctx.tree.rootNode, FUNCTION_TYPES);
  return fns.filter((fn) => {
    const name = functionName(fn);
    if (!name || !/jwt|token|assertion/i.test(name) || !/verify|validate|authenticate/i.test(name) || LIBRARY_VERIFY.test(fn.text)) return false;
    // It is handed the token (or the request), not reading the server's own from its environment (a set-up script's
    // `validate_all_tokens()` checking what `.env` holds).
    const single = fn.childForFieldName('parameter');
    const params = single ? [single] : fn.childForFieldName('parameters')?.namedChildren.filter((p) => p && p.type !== 'comment' && !['self', 'cls'].includes(p.text)) ?? [];
    if (!params.length || splitsOwnEnvToken(fn.text)) return false;
    const texts = [fn.text, ...sameFileCallees(fn, fns).map((f) => f.text)];
    const has = (re: RegExp) => texts.some((t) => re.test(t));
    // It checks the expiry, or takes the caller's identity from the payload (`return { userId: decoded.payload.sub }`)
    // without asking anyone (an introspection or userinfo request would be the check).
    // (A token then checked at its issuer, `supabase.auth.getUser(token)`, an introspection, is verified there.)
    const accepts = (has(EXPIRY) || (has(SUBJECT) && !has(ASKS_REMOTELY))) && !has(CHECKED_AT_ISSUER);
    return has(SPLITS) && has(PAYLOAD_DECODE) && accepts && !has(SIGNATURE) && !has(SEALED) && !has(LIBRARY_VERIFY) && !has(/\baud\b/) && !texts.some(checksAudienceInCode);
  });
}
/**
 * Audience options whose value is the `aud` claim of the same token, decoded without verification in the function
 * (`const peeked = decodeJwt(token); verify(token, { audience: peeked.payload.aud })`, `jwt.decode(t, key,
 * audience=unverified["aud"])`), directly or through a local (`expected = claims?.aud ?? DEFAULT`).
 */
function selfAudiences(ctx: FileContext): Array<{ node: Node; name: string }> {
  if (!/\baud\b/.test(ctx.source) || !UNVERIFIED_READ.test(ctx.source)) return [];
  const out: Array<{ node: Node; name: string }> = [];
  const options = ctx.family === 'python'
    ? descendants(ctx.tree.rootNode, new Set(['keyword_argument'])).filter((k) => k.childForFieldName('name')?.text === 'audience')
    : descendants(ctx.tree.rootNode, new Set(['pair'])).filter((p) => (stringValue(p.childForFieldName('key')!) ?? p.childForFieldName('key')?.text) === 'audience');
  for (const option of options) {
    const value = option.childForFieldName('value');
    const fn = value && enclosingFunction(option);
    // An option of a verifying call (`verify(token, { audience })`, `jwt.decode(…, audience=…)`), not a field of a
    // record logged or returned (`console.log({ audience: payload.aud })`).
    const call = option.parent?.type === 'argument_list' ? option.parent.parent : option.parent?.type === 'object' && option.parent.parent?.type === 'arguments' ? option.parent.parent.parent : undefined;
    if (!value || !fn || !call || !CALLS.has(call.type) || !VERIFYING_CALL.test(calledName(call) ?? '')) continue;
    // What was decoded without verification here, and the names holding parts of it (`claims = peeked?.payload`).
    const decoded = new Set<string>();
    const text = fn.text;
    for (const m of text.matchAll(/(?:const|let|var)?\s*([\w$]+)\s*(?::[^=\n]+)?=\s*(?:await\s+)?([^;\n]+)/g)) {
      const [, name, right] = m;
      if (UNVERIFIED_READ.test(right!) || [...decoded].some((d) => new RegExp(`(?<![\\w$])${reQuote(d)}(?![\\w$])`).test(right!))) decoded.add(name!);
    }
    if (!decoded.size) continue;
    // The option's text, and the right-hand side of the local it names.
    const texts = [value.text];
    if (value.type === 'identifier') for (const m of text.matchAll(new RegExp(`(?<![\\w$.])${reQuote(value.text)}\\s*(?::[^=\\n]+)?=(?!=)\\s*([^;]+?)(?:;|\\n\\s*\\n|$)`, 'gs'))) texts.push(m[1]!);
    const name = [...decoded].find((d) => texts.some((t) => new RegExp(`(?<![\\w$])${reQuote(d)}(?:\\??\\.[\\w$?.]*)?(?:\\??\\.aud\\b|\\[\\s*['"]aud['"]\\s*\\]|\\.get\\(\\s*['"]aud['"])`).test(t)));
    // (An audience first looked up among the server's own clients, `clients[peeked.payload.aud]`,
    // `allowed.includes(claims.aud)`, is checked there.)
    if (name && !/(?:\[|\.(?:includes|has|indexOf|get)\(\s*)[\w$.?]*\baud\s*[\])]/.test(text)) out.push({ node: option, name });
  }
  return out;
}
/** Calls named for verifying a token (`jwt.verify`, `verifyJwt`, `jwt.decode`, `validate_token`, `jwtVerify`). */
const VERIFYING_CALL = /verif|valid|decode|check|authenticat/i;
/** A token decoded without verification: jwt-decode, jsonwebtoken's or jose's decoders, PyJWT / python-jose unverified. */
const UNVERIFIED_READ = /\b(jwtDecode|jwt_decode|decodeJwt|decodeJWT|get_unverified_claims|decode_complete)\s*\(|\bjwt\.decode\s*\([^)]*(verify_signature['"]?\s*:\s*False|complete\s*:\s*true|\)\s*$)|\bjwt\.decode\(\s*[\w$.]+\s*(,\s*\{\s*complete\s*:\s*true\s*\})?\s*\)/;

/** Calls that hand the token to its issuer to check it: Supabase Auth's `getUser(token)` / `getClaims`, introspection. */
const CHECKED_AT_ISSUER = /\.auth\.(getUser|getClaims)\(\s*\w|\bintrospect\w*\(/;
/** The payload decoded from base64url text. */
const PAYLOAD_DECODE = /\batob\(|Buffer\.from\([\s\S]*?['"]base64(url)?['"]\s*\)|b64decode|base64url\.decode|decodeBase64/;
const OWN_ENV = /\bos\.getenv\(|\bos\.environ\b|\bprocess\.env\b|\bDeno\.env\b/;
/** The token the function splits is one it read from its own environment (`token = os.getenv("GATEWAY_TOKEN")`). */
function splitsOwnEnvToken(text: string): boolean {
  for (const m of text.matchAll(/([\w$]+)\s*\.\s*split\(\s*['"]\.['"]/g)) {
    const assigned = new RegExp(`\\b${reQuote(m[1]!)}\\s*(?::[^=\\n]+)?=\\s*([^\\n;]+)`).exec(text);
    if (assigned && OWN_ENV.test(assigned[1]!)) return true;
  }
  return false;
}
/** Authenticated decryption: a sealed token of the server's own (AES-GCM, Fernet), not a JWT read unverified. */
const SEALED = /\bcreateDecipheriv\b|\bsubtle\.decrypt\b|\bdecrypt\(|\bFernet\b|\bAESGCM\b|\bsecretbox\b/;
/** The subject claim read: who the token says the caller is. */
const SUBJECT = /\.sub\b(?!\s*\()|\[\s*['"]sub['"]\s*\]|get\(\s*['"]sub['"]/;
/** An HTTP request from the verifier: the token checked remotely (introspection, userinfo), not trusted as decoded. */
const ASKS_REMOTELY = /\bfetch\(|\baxios\b|\bhttpx\.|\brequests\.(get|post)\b|\burlopen\(|introspect|userinfo/i;
/** The expiry claim read. */
const EXPIRY = /\.exp\b|\[\s*['"]exp['"]\s*\]|get\(\s*['"]exp['"]/;

// ---- Python ----

function pythonLib(q: string, fn: Node, authlibInstances: Set<string>, imports: Imports): Lib | undefined {
  // Cheap first: most calls are not JWT calls at all, whatever their root is.
  const last = q.split('.').pop()!;
  if (last !== 'decode' && last !== 'decode_complete' && last !== 'JWTVerifier' && last !== 'BearerAuthProvider') return undefined;
  // `jwt.decode(...)` only when `jwt` is the imported library: a local named `jwt` (bytes, a response) decodes nothing.
  let root: Node | null = fn;
  while (root?.type === 'attribute') root = root.childForFieldName('object');
  const imported = root?.type === 'identifier' && imports.names.has(root.text) && !shadowed(root);
  if (!imported && !(root?.type === 'identifier' && authlibInstances.has(root.text)) && root?.type !== 'call') return undefined;
  // `jwt = JsonWebToken([...])` in the function shadows an imported PyJWT: the call is authlib's.
  if (!imported && root?.type === 'identifier' && authlibInstances.has(root.text) && last === 'decode') return 'authlib';
  if (q === 'jwt.decode' || q === 'jwt.decode_complete' || q === 'jwt.api_jwt.decode' || q === 'jwt.api_jwt.decode_complete') return 'pyjwt';
  if (q === 'jose.jwt.decode') return 'python-jose';
  if (q === 'authlib.jose.jwt.decode') return 'authlib';
  if (fn.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'decode') {
    const obj = fn.childForFieldName('object');
    if (obj && authlibInstances.has(obj.text)) return 'authlib';
    if (obj?.type === 'call' && qualify(obj.childForFieldName('function'), emptyImports())?.endsWith('JsonWebToken')) return 'authlib';
  }
  if ((last === 'JWTVerifier' || last === 'BearerAuthProvider') && (q === last || q.startsWith('fastmcp.'))) return 'fastmcp';
  return undefined;
}

/** A name assigned or taken as a parameter in the enclosing function hides the module-level import. */
function shadowed(id: Node): boolean {
  const fn = enclosingFunction(id);
  if (!fn) return false;
  const params = fn.childForFieldName('parameters')?.namedChildren ?? [];
  if (params.some((p) => p && (p.text === id.text || p.childForFieldName('name')?.text === id.text || p.namedChildren[0]?.text === id.text))) return true;
  return descendants(fn, new Set(['assignment'])).some((a) => a.childForFieldName('left')?.text === id.text);
}

/** Names bound to `authlib.jose.JsonWebToken(...)` instances. */
function authlibJwtInstances(root: Node, imports: Imports): Set<string> {
  const names = new Set<string>();
  for (const a of descendants(root, new Set(['assignment']))) {
    const right = a.childForFieldName('right');
    if (right?.type !== 'call') continue;
    const q = qualify(right.childForFieldName('function'), imports);
    if (q === 'authlib.jose.JsonWebToken') names.add(a.childForFieldName('left')!.text);
  }
  return names;
}

interface Issue {
  level: Level;
  node: Node;
  message: string;
  fix: string;
  /** The signature is not verified either: checking the audience elsewhere does not make this a verification. */
  unsigned?: boolean;
  /** A one-branch check gated by a setting (`settings.jwt_verify_audience`): the setting's name. */
  gate?: string;
  /** The audience is an optional parameter of the verifier: its name and the parameter's position. */
  optional?: { fn: string; index: number };
  /** The audience is read from a setting (`settings.jwt_audience`): its name. */
  emptySetting?: string;
}

/** The setting a condition or option value reads: `settings.verify_aud`, `bool(self.config.verify_aud)` → its name. */
function gateName(node: Node | null | undefined): string | undefined {
  let n = node;
  while (n && (n.type === 'parenthesized_expression' || (n.type === 'call' && n.childForFieldName('function')?.text === 'bool'))) {
    n = n.type === 'call' ? n.childForFieldName('arguments')?.namedChildren[0] : n.namedChildren[0];
  }
  return n?.type === 'attribute' ? n.childForFieldName('attribute')?.text : undefined;
}

/** The function around the call, or a function of the same file it calls, reads `aud` in a comparison. */
function checksAudienceNearby(call: Node, ctx: FileContext): boolean {
  const fn = enclosingFunction(call);
  if (!fn) return false;
  return checksAudienceInCode(fn.text) || sameFileCallees(fn, descendants(ctx.tree.rootNode, FUNCTION_TYPES), handsClaims(boundNames(call))).some((other) => checksAudienceInCode(other.text));
}

/**
 * The functions of the file that `fn` calls, by the name they are defined under (`self._validate_audience(claims)`
 * calls `def _validate_audience`); with `counts`, only the calls it accepts.
 */
function sameFileCallees(fn: Node, fns: Node[], counts?: (call: Node) => boolean): Node[] {
  const called = new Set(descendants(fn, CALLS).filter((c) => !counts || counts(c)).map((c) => c.childForFieldName('function')?.text.split('.').pop()).filter((t): t is string => !!t));
  return fns.filter((other) => other.id !== fn.id && called.has(functionName(other) ?? ''));
}

/**
 * Calls that may check the audience of verified claims: handed one of the names the claims are bound to (`given`), or,
 * when they are bound to none, anything but the raw token alone (`this.introspectToken(token)` is another way to
 * accept the token, whose check does not cover this one).
 */
function handsClaims(given: ReadonlySet<string>): (call: Node) => boolean {
  return (call) => {
    const args = (call.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is Node => !!a && a.type !== 'comment');
    if (given.size) return args.some((a) => [...given].some((n) => new RegExp(`(?<![\\w$])${reQuote(n)}(?![\\w$])`).test(a.text)));
    return !args.length || !args.every((a) => RAW_TOKEN.test(a.text.split('.').pop()!));
  };
}

/** A name for the raw token itself (`token`, `rawToken`, `access_token`, `jwt`). */
const RAW_TOKEN = /^_*(raw_?|access_?|bearer_?|encoded_?)?(token|jwt)$|^_*bearer$/i;

/** The names a call's result is bound to (`const { payload } = await jwtVerify(…)`, `claims = jwt.decode(…)`). */
function boundNames(call: Node): Set<string> {
  let n: Node = call;
  while (n.parent && ['await_expression', 'await', 'parenthesized_expression', 'as_expression', 'non_null_expression'].includes(n.parent.type)) n = n.parent;
  const p = n.parent;
  const target = p?.type === 'variable_declarator' ? p.childForFieldName('name') : p?.type === 'assignment' || p?.type === 'assignment_expression' ? p.childForFieldName('left') : undefined;
  if (!target) return new Set();
  const ids = target.type === 'identifier' ? [target] : target.descendantsOfType(['identifier', 'shorthand_property_identifier_pattern']);
  return new Set(ids.filter((i): i is Node => !!i).map((i) => i.text));
}

/**
 * Boolean settings a Python file declares on by default (`verify_audience: bool = True`, `= Field(default=True)` in a
 * settings class): a check gated by one runs unless an operator turns it off.
 */
export function settingsOnByDefault(source: string): string[] {
  return [...source.matchAll(/^[ \t]+(\w+)\s*:\s*bool\s*=\s*(?:True\b|Field\(\s*(?:default\s*=\s*)?True\b)/gm)].map((m) => m[1]!);
}

/** Reads the audience by hand (`payload.aud !== …`, `claims["aud"] not in …`, `.get("aud")`, `aud.includes(…)`). */
export function checksAudienceInCode(source: string): boolean {
  // `typeof payload.aud === "string"` asks what kind of value it is, not whether it is ours.
  source = source.replace(/typeof\s+[\w.$?]+/g, 'typeof_');
  // Most code never names the claims: skip the patterns below.
  if (!source.includes('aud') && !source.includes('azp')) return false;
  // …or hands it to a check named for it (`config.audienceMatches(claims.aud)`, `validate_audience(claims["aud"])`).
  for (const m of source.matchAll(/([\w$]+)\s*\(\s*[\w$.?]+(?:\.aud\b|\[\s*["']aud["']\s*\])/g)) if (/aud/i.test(m[1]!)) return true;
  if (/\.(?:aud|azp)\b\s*(?:!==|===|!=|==|\bnot\s+in\b|\bin\b)|\[\s*["'](?:aud|azp)["']\s*\]\s*(?:!==|===|!=|==|\bnot\s+in\b|\bin\b)|\.get\(\s*["']aud["']|\baud\w*\.includes\(|\.includes\([^)]*\.aud\b/.test(source)) return true;
  return comparedThroughName(source);
}

/** Reading the audience (`aud`) or authorized party (`azp`, the application a token was issued to) claim. */
const CLAIM_READ = /\.(?:aud|azp)\b|\[\s*["'](?:aud|azp)["']\s*\]|\.get\(\s*["'](?:aud|azp)["']/;

/**
 * Cognito's `client_id` claim, which its access tokens carry instead of `aud`, read off the decoded claims and compared
 * (`claims.get("client_id") != self.client_id`, also through a name): the app binding of those tokens. Counted only
 * for a decode that gets `audience=` on its ID-token branch; a form's `client_id` is not a claim.
 */
function comparesClientIdClaim(source: string): boolean {
  const read = /\b(?:claims|payload|decoded|verified|token_data)\w*\s*(?:\.get\(\s*["']client_id["']\s*\)|\[\s*["']client_id["']\s*\])/;
  const compare = '\\s*(?:!==|===|!=|==|\\bnot\\s+in\\b|\\bin\\b)';
  if (new RegExp(read.source + compare).test(source)) return true;
  for (const m of source.matchAll(new RegExp('\\b([A-Za-z_]\\w*)\\s*=\\s*' + read.source, 'g'))) {
    if (new RegExp(`\\b${m[1]}\\b${compare}|(?:!==|===|!=|==)\\s*${m[1]}\\b`).test(source)) return true;
  }
  return false;
}

/**
 * The claim is read into a name, maybe through others (also a callback's parameter over an array of them), and that
 * name is compared (`const azp = payload.azp; const appId = azp ?? payload.client_id; if (appId !== CLIENT_ID) throw …`).
 */
function comparedThroughName(source: string): boolean {
  const bindings = [...source.matchAll(/(?:\b(?:const|let|var)\s+)?([A-Za-z_$][\w$]*)\s*(?::[^=;\n]+)?=(?![=>])\s*([^;\n]+)/g)].map((m) => ({ name: m[1]!, value: m[2]! }));
  // A callback's parameter is bound to the array it walks (`audiences.some((value) => value === RESOURCE)`).
  for (const m of source.matchAll(/([A-Za-z_$][\w$]*)\.(?:some|every|find|filter|forEach|map)\(\s*(?:async\s*)?\(?\s*([A-Za-z_$][\w$]*)/g)) bindings.push({ name: m[2]!, value: m[1]! });
  const names = new Set(bindings.filter((b) => CLAIM_READ.test(b.value)).map((b) => b.name));
  for (let grew = names.size > 0; grew; ) {
    grew = false;
    for (const b of bindings) {
      if (names.has(b.name) || ![...names].some((n) => new RegExp(`(?<![\\w$.])${reQuote(n)}(?![\\w$])`).test(b.value))) continue;
      names.add(b.name);
      grew = true;
    }
  }
  return [...names].some((n) => {
    const id = reQuote(n);
    return new RegExp(`(?<![\\w$.])${id}\\s*(?:!==|===|!=|==|\\bnot\\s+in\\b|\\bin\\b)|(?:!==|===|!=|==)\\s*${id}(?![\\w$])|\\.includes\\(\\s*${id}\\s*\\)|(?<![\\w$.])${id}\\.includes\\(`).test(source);
  });
}

/**
 * The name of the function around the decode when its result leaves it (returned directly, or bound to a name that a
 * `return` mentions) or is dropped (a signature check); undefined otherwise.
 */
function claimsReturned(call: Node): string | undefined {
  // `await jwtVerify(token, key)` with the result dropped: a signature check for a caller that reads the claims itself.
  let up: Node | null = call.parent;
  while (up && (up.type === 'await_expression' || up.type === 'await' || up.type === 'parenthesized_expression')) up = up.parent;
  if (up?.type === 'expression_statement') {
    const fn = enclosingFunction(up);
    return fn ? functionName(fn) : undefined;
  }
  const names = new Set<string>();
  let returned = false;
  let node: Node | null = call.parent;
  for (; node && !FUNCTION_TYPES.has(node.type); node = node.parent) {
    if (node.type === 'return_statement') returned = true;
    if (!returned && !names.size && (node.type === 'variable_declarator' || node.type === 'assignment' || node.type === 'assignment_expression')) {
      const target = node.childForFieldName(node.type === 'variable_declarator' ? 'name' : 'left');
      for (const id of target ? [target, ...target.descendantsOfType(['identifier', 'shorthand_property_identifier_pattern'])] : []) {
        if (id && (id.type === 'identifier' || id.type === 'shorthand_property_identifier_pattern')) names.add(id.text);
      }
    }
  }
  if (!node) return undefined;
  if (!returned && !descendants(node, new Set(['return_statement'])).some((r) => r.descendantsOfType('identifier').some((id) => id && names.has(id.text)))) return undefined;
  return functionName(node);
}

/**
 * Inside an `except` handler (of the enclosing function) that ends by refusing the request: re-raising, raising, or
 * returning a 401/403 response, `None` or `False`.
 */
function inRefusingHandler(call: Node): boolean {
  let n: Node | null = call.parent;
  while (n && n.type !== 'except_clause' && !FUNCTION_TYPES.has(n.type)) n = n.parent;
  if (n?.type !== 'except_clause') return false;
  const block = n.namedChildren.filter((c): c is Node => !!c && c.type === 'block').at(-1);
  const last = block?.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment').at(-1);
  if (last?.type === 'raise_statement') return true;
  return last?.type === 'return_statement' && /\b40[13]\b|unauthori[sz]ed|forbidden|^return\s*$|^return\s+(None|False)\b/i.test(last.text);
}

function pythonIssue(lib: Lib, call: Node, ctx: FileContext): Issue | undefined {
  const args = call.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => !!a && a.type !== 'comment') ?? [];
  const kw = new Map<string, Node>();
  let splat = false;
  const positional: Node[] = [];
  for (const a of args) {
    if (a.type === 'keyword_argument') kw.set(a.childForFieldName('name')!.text, a);
    else if (a.type === 'dictionary_splat') splat = true;
    else positional.push(a);
  }
  const label = shortText(call.childForFieldName('function')!, 40);
  const given = (name: string, position?: number) => {
    const k = kw.get(name);
    return givesAudience(k ? k.childForFieldName('value') : position !== undefined ? positional[position] : undefined);
  };

  // A token this server just received from an authorization server's token endpoint (`tokens = response.json()`,
  // `id_token = tokens.get("id_token")`), or read from its own file or environment (a workload identity's SVID), is
  // its own, not a caller's: the rule is about tokens callers present.
  if (positional[0] && serversOwnToken(positional[0], call)) return undefined;
  if (lib === 'pyjwt' || lib === 'python-jose') {
    if (lib === 'pyjwt' && kw.get('verify')?.childForFieldName('value')?.type === 'false') {
      return { level: 'error', node: kw.get('verify')!, message: `\`${label}(…, verify=False)\` skips signature and audience verification: any token is accepted.`, fix: FIX_OPTIONS, unsigned: true };
    }
    const options = kw.get('options')?.childForFieldName('value') ?? (lib === 'pyjwt' ? positional[3] : positional[3]);
    const disabled = options ? disabledOption(options, ctx, call) : undefined;
    const audienceGiven = given('audience', lib === 'pyjwt' ? 5 : 4);
    // Claims read without the signature but with the audience checked, or the audience checked by hand right after
    // (`payload["aud"]`, `payload.get("aud")` in the same function): not this rule's finding.
    if (disabled && ((disabled.key === 'verify_signature' && audienceGiven) || (disabled.key === 'verify_aud' && (checksAudienceByHand(call) || checksAudienceNearby(call, ctx))))) return undefined;
    // Claims read to explain a failed verification (`except InvalidAudienceError: … logger.warning(unverified["aud"])`)
    // in a handler that then refuses the request: diagnostics, not a way in.
    if (disabled && inRefusingHandler(call)) return undefined;
    // Claims read from a token the server's auth layer has already verified (`get_access_token().raw_token`).
    if (disabled?.key === 'verify_signature' && positional[0] && alreadyVerified(positional[0], call)) return undefined;
    // Claims read without the signature in a server whose MCP auth layer verifies every caller's token with an
    // audience (`FastMCP(auth=BearerAuthProvider(…, audience=…))` in the same file), or by a helper of an IdP client
    // class that verifies with an audience and gets its own tokens (`EntraProvider.user_info_from_token`): a display.
    // Only for a token the helper is given (a header it reads itself may be one the auth layer never saw), whose
    // claims it keeps to read from (a helper returning the decode itself is a verifier).
    if (disabled?.key === 'verify_signature' && positional[0] && isParameter(positional[0], call) && call.parent?.type === 'assignment' && (verifierWithAudienceInFile(call) || inProviderClient(call))) return undefined;
    // A signature-off decode whose result is only looked at for routing or freshness (`iss` to pick the verifier,
    // `exp` of a cached token, `kid`) accepts nothing: it is a peek, not a verification.
    if (disabled?.key === 'verify_signature' && onlyPeeks(call)) return undefined;
    // A peek before the verification in the same function (`unverified = jwt.decode(token, options={…False})` for
    // diagnostics or to pick a key, then `jwt.decode(token, key, audience=…)`): the second call is the check.
    if (disabled?.key === 'verify_signature' && verifiedWithAudienceAfter(call)) return undefined;
    if (disabled?.sometimes) {
      return {
        level: 'warning', node: disabled.node, gate: disabled.gate,
        message: `\`${label}\` turns the audience check on only when \`${shortText(disabled.node.childForFieldName('value') ?? disabled.node, 40)}\` is true: when it is not (an audience left unconfigured), a token issued for any audience is accepted.`,
        fix: 'Always verify the audience; fail closed at start-up when the expected audience is not configured.',
      };
    }
    if (disabled) {
      const what = disabled.key === 'verify_signature' ? 'signature verification (and with it the audience check)' : 'the audience check';
      return { level: 'error', node: disabled.node, message: `\`${label}\` is called with \`"${disabled.key}": False\`, which turns off ${what}: tokens issued for other services are accepted.`, fix: FIX_OPTIONS, unsigned: disabled.key === 'verify_signature' };
    }
    // `jwt.decode(token, key, **kwargs)` with `kwargs["audience"]` set only under an `if`.
    const gates: string[] = [];
    const splatted = splat ? splatAudience(call, args, gates) : 'unknown';
    // (…unless the other branch is checked by hand after the decode: Cognito access tokens' `client_id`.)
    if (splatted === 'sometimes' && !checksAudienceNearby(call, ctx) && !comparesClientIdClaim(enclosingFunction(call)?.text ?? '')) {
      return {
        level: 'warning', node: call, gate: gates.length === 1 ? gates[0] : undefined,
        message: `\`${label}(**…)\` gets \`audience\` only on one branch (set under a condition): when it is left out, a token issued for any audience is accepted.`,
        fix: 'Always pass `audience=`; fail at start-up when the expected audience is not configured.',
      };
    }
    // `if claims.get("aud") != RESOURCE: raise …` after the decode (or in a helper of this file it calls) checks it by hand.
    const lname = lib === 'pyjwt' ? 'PyJWT' : 'python-jose';
    if (!given('audience', lib === 'pyjwt' ? 5 : 4) && (!splat || splatted === 'never') && !ownTypedToken(call, ctx) && !checksAudienceNearby(call, ctx)) {
      const named = kw.get('audience')?.childForFieldName('value');
      const line = named ? emptyConstant(named) : undefined;
      return {
        level: 'warning', node: call,
        message: `\`${label}\` is called ${line ? `with \`audience=${named!.text}\`, which is bound to nothing (line ${line})` : 'without `audience=`'}. ${lname} then only rejects tokens that carry an \`aud\` claim; tokens without one (for any service) are accepted.`,
        fix: FIX_AUDIENCE,
      };
    }
    const setting = optionalSettingAudience(kw.get('audience'), call);
    if (setting) return { ...setting, message: `\`${label}\` takes \`audience=${setting.text}\`, a setting that is empty unless configured: left unset, ${lname} accepts tokens that carry no \`aud\` claim, for any service.` };
    // `def validate_token(token, key, audience=None): jwt.decode(…, audience=audience)`, wired in the same module to
    // such a setting (`JWTAuthMiddleware(…, audience=settings.jwt_audience)`): the same, one call away.
    const param = optionalParameter(kw.get('audience')?.childForFieldName('value'), call);
    const wired = param ? settingWiredInFile(call) : undefined;
    if (wired) return { ...wired, message: `\`${label}\` takes \`audience=${param}\`, an optional parameter this module fills from \`${wired.text}\`, a setting that is empty unless configured: left unset, ${lname} accepts tokens that carry no \`aud\` claim, for any service.` };
    return undefined;
  }
  if (lib === 'authlib') {
    // authlib checks the claims (`aud` included) only in `claims.validate()`: claims bound here and used without it
    // have had their signature checked and nothing else.
    const unvalidated = neverValidated(call);
    if (unvalidated) {
      return {
        level: 'error', node: call,
        message: `\`${label}\` (authlib) returns claims that are checked only by \`${unvalidated}.validate()\`, which is never called here: a token issued for any audience (or expired) is accepted.`,
        fix: 'Call `claims.validate()` after decoding, with `claims_options={"aud": {"essential": True, "value": RESOURCE_URI}}`.',
      };
    }
    const opts = kw.get('claims_options')?.childForFieldName('value') ?? positional[2];
    if (!splat && !(opts && dictHasKey(opts, 'aud', ctx, call)) && !checksAudienceNearby(call, ctx)) {
      return {
        level: 'error', node: call,
        message: `\`${label}\` (authlib) is called without \`claims_options\` for \`aud\`: \`claims.validate()\` then accepts a token issued for any audience.`,
        fix: 'Pass `claims_options={"aud": {"essential": True, "value": RESOURCE_URI}}` and call `claims.validate()`.',
      };
    }
    return undefined;
  }
  if (lib === 'fastmcp') {
    // `JWTVerifier(**kwargs)` with `kwargs` built in this function: what it holds decides.
    const gates: string[] = [];
    const splatted = splat ? splatAudience(call, args, gates) : 'unknown';
    // (…unless the other branch is checked by hand after the decode: Cognito access tokens' `client_id`.)
    if (splatted === 'sometimes' && !checksAudienceNearby(call, ctx) && !comparesClientIdClaim(enclosingFunction(call)?.text ?? '')) {
      return {
        level: 'warning', node: call, gate: gates.length === 1 ? gates[0] : undefined,
        message: `\`${label}(**…)\` gets \`audience\` only on one branch (set under a condition): when it is left out, the FastMCP verifier accepts tokens issued for any audience.`,
        fix: 'Always pass `audience=`; fail at start-up when the expected audience is not configured.',
      };
    }
    // A verifier of this file built on FastMCP's (`class TenantVerifier(JWTVerifier)`) that reads `aud` by hand wraps
    // the ones built here without an audience.
    if ((!given('audience') || emptyLiteral(kw.get('audience')?.childForFieldName('value'))) && (!splat || splatted === 'never') && !wrappedByAudienceCheck(ctx)) {
      return {
        level: 'error', node: call,
        message: kw.has('audience') ? `\`${label}(…, audience=${shortText(kw.get('audience')!.childForFieldName('value')!, 20)})\` is built with an empty audience: the FastMCP verifier then accepts tokens issued for any audience.`
          : `\`${label}(…)\` is built without \`audience=\`: the FastMCP verifier then accepts tokens issued for any audience.`,
        fix: 'Pass `audience=` with this server\'s resource URI (or the audience your authorization server puts in its tokens).',
      };
    }
    const setting = optionalSettingAudience(kw.get('audience'), call);
    if (setting) return { ...setting, message: `\`${label}(…)\` takes \`audience=${setting.text}\`, a setting that is empty unless configured: left unset, the FastMCP verifier accepts tokens issued for any audience.` };
  }
  return undefined;
}

/**
 * `audience=settings.jwt_audience`: an audience read from a setting, which the project may declare optional and empty by
 * default (`jwt_audience: str | None = None`; `index.ts` keeps the finding only then, and only when no code of the
 * project fails closed without it: see `settingsRequired`).
 */
function optionalSettingAudience(kw: Node | undefined, call: Node): (Omit<Issue, 'message'> & { text: string }) | undefined {
  const value = kw?.childForFieldName('value');
  const name = value?.type === 'attribute' ? value.childForFieldName('attribute')?.text : undefined;
  if (!value || !name || !/aud/i.test(name)) return undefined;
  return {
    level: 'warning', node: call, emptySetting: name, text: value.text,
    fix: 'Make the audience setting required (or default it to this server\'s resource URI) and fail at start-up without it.',
  };
}

/** `audience` given a parameter of the enclosing function that defaults to `None`: the parameter's name. */
function optionalParameter(value: Node | null | undefined, call: Node): string | undefined {
  const fn = enclosingFunction(call);
  if (value?.type !== 'identifier' || !fn) return undefined;
  const param = fn.childForFieldName('parameters')?.namedChildren.find((p) => (p?.type === 'default_parameter' || p?.type === 'typed_default_parameter') && p.childForFieldName('name')?.text === value.text);
  return param?.childForFieldName('value')?.type === 'none' ? value.text : undefined;
}

/** The first `audience=<setting named for an audience>` handed to any call of the file (see `optionalSettingAudience`). */
function settingWiredInFile(call: Node): (Omit<Issue, 'message'> & { text: string }) | undefined {
  for (const c of descendants(call.tree.rootNode, new Set(['call']))) {
    const kw = c.childForFieldName('arguments')?.namedChildren.find((a) => a?.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'audience') ?? undefined;
    const found = optionalSettingAudience(kw, call);
    if (found) return found;
  }
  return undefined;
}

/** Audience settings some code checks before use, failing closed without them (see `settingsEmptyByDefault`). */
export function settingsRequired(source: string): string[] {
  // `if not settings.jwt_audience: raise …`, `if s.OIDC_MCP_AUDIENCE is None`, a validator's `assert self.jwt_audience`.
  return [...source.matchAll(/\bnot\s+(?:[\w()]+\.)*(\w*aud\w*)\b|\b(\w*aud\w*)\s+is\s+None\b|\bassert\s+(?:[\w()]+\.)*(\w*aud\w*)\b/gi)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

/**
 * Settings a Python settings class declares optional and empty by default, among those named for an audience
 * (`jwt_audience: str | None = None`, `AUTH_AUDIENCE: Optional[str] = Field(default=None)`, `audience: str = ""`).
 */
export function settingsEmptyByDefault(source: string): string[] {
  return [...source.matchAll(/^[ \t]+(\w*aud\w*)\s*:\s*(?:Optional\[\s*str\s*\]|str\s*\|\s*None|None\s*\|\s*str|str)\s*=\s*(?:None|""|''|Field\(\s*(?:default\s*=\s*)?(?:None|""|'')\s*[,)])/gim)].map((m) => m[1]!);
}

/**
 * The name an authlib decode's claims are bound to, when the enclosing function never calls `.validate()` on it and
 * does not hand it back to its caller (who may); undefined otherwise.
 */
function neverValidated(call: Node): string | undefined {
  const assign = call.parent;
  const target = assign?.type === 'assignment' ? assign.childForFieldName('left') : undefined;
  if (target?.type !== 'identifier') return undefined;
  const fn = enclosingFunction(assign!);
  if (!fn) return undefined;
  const name = target.text;
  if (new RegExp(`(?<![\\w$])${reQuote(name)}\\.validate\\(`).test(fn.text)) return undefined;
  if (descendants(fn, new Set(['return_statement'])).some((r) => r.text === `return ${name}`)) return undefined;
  return name;
}

/** A class of the file that extends FastMCP's `JWTVerifier` / `TokenVerifier` and checks `aud` in one of its methods. */
function wrappedByAudienceCheck(ctx: FileContext): boolean {
  return descendants(ctx.tree.rootNode, new Set(['class_definition'])).some((cls) =>
    /\b(JWTVerifier|TokenVerifier|BearerAuthProvider)\b/.test(cls.childForFieldName('superclasses')?.text ?? '') &&
    descendants(cls, new Set(['function_definition'])).some((fn) => checksAudienceInCode(fn.text)));
}

/** Where the server's own tokens come from: an HTTP response's JSON, a file it reads, its environment. */
// (…also what a helper of the server's own OAuth client returns: `exchange_code_for_token(…)`, `fetch_token(…)`,
// MSAL's `acquire_token_by_authorization_code(…)`.)
const OWN_TOKEN = /\.json\(\s*\)|\.read\(\s*\)|\.read_text\(|\bos\.getenv\(|\bos\.environ\b|\b\w*(exchange_code|code_for_tokens?|fetch_token|acquire_token|refresh_access_token)\w*\(/;

/**
 * The value is read, within a few assignments in the enclosing function, from the JSON of an HTTP response, a file
 * or the environment.
 */
function serversOwnToken(arg: Node, call: Node): boolean {
  const scope = enclosingFunction(call);
  if (!scope) return false;
  const assignments = descendants(scope, new Set(['assignment'])).filter((a) => a.startIndex < call.startIndex);
  let expr: Node | null | undefined = arg;
  for (let hops = 0; expr && hops < 4; hops++) {
    if (OWN_TOKEN.test(expr.text)) return true;
    // `tokens.get("id_token")`, `tokens["id_token"]`, `await resp.json()` → the object they read.
    let root: Node | null | undefined = expr;
    while (root && root.type !== 'identifier') {
      root = root.type === 'call' ? root.childForFieldName('function') : root.type === 'attribute' ? root.childForFieldName('object') : root.type === 'subscript' ? root.childForFieldName('value') : root.type === 'await' ? root.namedChildren[0] : undefined;
    }
    if (!root) return false;
    const last = assignments.filter((a) => a.childForFieldName('left')?.text === root!.text).pop();
    expr = last?.childForFieldName('right');
  }
  return false;
}

/**
 * The token of the request's verified access token: `get_access_token().token`, or `.token` / `.raw_token` of a name
 * the enclosing function bound to `get_access_token()` (FastMCP, the MCP SDK). Its verifier ran before the tool did.
 */
function alreadyVerified(arg: Node, call: Node): boolean {
  if (arg.type !== 'attribute' || !['token', 'raw_token'].includes(arg.childForFieldName('attribute')?.text ?? '')) return false;
  const holder = arg.childForFieldName('object')!;
  // The MCP SDK's authenticated user (`request.user.access_token`), verified by the server's `TokenVerifier`.
  const verifiedUser = (text: string) => /\buser\.access_token$/.test(text);
  // A helper of this file that returns one of those (`get_current_user_token()` → `request.user.access_token`).
  const helpers = new Set(descendants(call.tree.rootNode, new Set(['function_definition'])).filter((f) => {
    const returns = descendants(f, new Set(['return_statement'])).map((r) => r.namedChildren[0]).filter((v): v is Node => !!v && v.type !== 'none');
    return returns.length > 0 && returns.every((v) => verifiedUser(v.text) || /(^|\.)get_access_token\(\)$/.test(v.text));
  }).map((f) => f.childForFieldName('name')?.text ?? ''));
  const fromGetter = (n: Node | null | undefined) => (n?.type === 'call' && (/(^|\.)get_access_token$/.test(n.childForFieldName('function')?.text ?? '') ||
    helpers.has(n.childForFieldName('function')?.text ?? ''))) || (!!n && verifiedUser(n.text));
  if (fromGetter(holder)) return true;
  if (holder.type !== 'identifier') return false;
  const fn = enclosingFunction(call);
  if (!fn) return false;
  const assignments = descendants(fn, new Set(['assignment'])).filter((a) => a.childForFieldName('left')?.text === holder.text);
  return assignments.length > 0 && assignments.every((a) => fromGetter(a.childForFieldName('right')));
}

/** FastMCP's token verifiers: with an `audience=`, every inbound token is checked before a tool runs. */
const FASTMCP_VERIFIERS = /(^|\.)(BearerAuthProvider|JWTVerifier)$/;

/** Whether `arg` is a name the enclosing function takes as a parameter (and does not reassign). */
function isParameter(arg: Node, call: Node): boolean {
  const fn = enclosingFunction(call);
  if (arg.type !== 'identifier' || !fn) return false;
  const params = fn.childForFieldName('parameters')?.namedChildren ?? [];
  const names = params.map((p) => p?.type === 'identifier' ? p.text : (p?.childForFieldName('name') ?? p?.namedChildren[0])?.text);
  return names.includes(arg.text) && !descendants(fn, new Set(['assignment'])).some((a) => a.childForFieldName('left')?.text === arg.text);
}

/** Whether the file builds a FastMCP token verifier given an audience (not `None`). */
function verifierWithAudienceInFile(call: Node): boolean {
  return descendants(call.tree.rootNode, new Set(['call'])).some((c) => FASTMCP_VERIFIERS.test(c.childForFieldName('function')?.text ?? '') && audienceKeyword(c) === true);
}

/**
 * Whether the call sits in a method of an identity provider's client class: one that gets tokens from the IdP itself
 * (a method named for the code exchange or a refresh) and verifies presented tokens with an audience (a `jwt.decode`
 * given `audience=`). Its helpers read the claims of tokens the class obtained or verified.
 */
function inProviderClient(call: Node): boolean {
  let cls: Node | null = call.parent;
  while (cls && cls.type !== 'class_definition') cls = cls.parent;
  if (!cls) return false;
  const methods = descendants(cls, new Set(['function_definition']));
  return methods.some((m) => /exchange_code|code_for_tokens?|fetch_token|refresh_token|acquire_token/.test(m.childForFieldName('name')?.text ?? '')) &&
    descendants(cls, new Set(['call'])).some((c) => /(^|\.)(jwt|jose)\.decode$/.test(c.childForFieldName('function')?.text ?? '') && audienceKeyword(c) === true);
}

/** Whether the function around a signature-off decode later decodes with a key and an `audience=` (not `None`). */
function verifiedWithAudienceAfter(call: Node): boolean {
  const fn = enclosingFunction(call);
  if (!fn) return false;
  const name = call.childForFieldName('function')?.text;
  // …or verified after it with the audience compared by hand in the function (`"verify_aud": False`, then
  // `if claims["aud"] not in expected`): the first decode only peeked at the issuer to pick the key.
  const byHand = checksAudienceInCode(fn.text);
  return descendants(fn, new Set(['call'])).some((c) => c.startIndex > call.startIndex && c.childForFieldName('function')?.text === name &&
    (audienceKeyword(c) === true || byHand) && !/verify_signature["']\s*:\s*False/.test(c.text));
}

/** A Python call's `audience=` keyword: true when given a value, false when given `None`, undefined when absent. */
function audienceKeyword(call: Node): boolean | undefined {
  const kw = call.childForFieldName('arguments')?.namedChildren.find((a) => a?.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'audience');
  return kw ? givesAudience(kw.childForFieldName('value')) : undefined;
}

/** A Python audience argument that checks something: not `None`, nor a module placeholder bound to nothing. */
function givesAudience(value: Node | null | undefined): boolean {
  return !!value && value.type !== 'none' && emptyConstant(value) === undefined;
}

/**
 * An empty list, tuple or string literal (`audience=[]`). Verifiers that test the option for truth (FastMCP's
 * `if self.audience:`) skip the check for it; PyJWT, jsonwebtoken and jose compare against it and reject every token
 * (so does `[]` in JavaScript, where it is true), except jose and jsonwebtoken for `''`.
 */
function emptyLiteral(value: Node | null | undefined, strings = true, lists = true): boolean {
  if (!value) return false;
  return (lists && ['list', 'tuple', 'array'].includes(value.type) && value.namedChildCount === 0) || (strings && value.type === 'string' && /^[rbuf]*(""|''|``)$/i.test(value.text));
}

/**
 * A name the file binds once, at its top, to nothing (`const AUDIENCE = undefined`, `AUDIENCE = None`, `= ''`, as a
 * placeholder "to fill in later"), and no function on the way up rebinds: an audience option given it checks
 * nothing, however present it looks. The line of the binding, or undefined.
 */
function emptyConstant(value: Node): number | undefined {
  if (value.type !== 'identifier') return undefined;
  const name = value.text;
  const pattern = reQuote(name);
  const empty = (v: Node | null | undefined) => !!v && (['undefined', 'null', 'none'].includes(v.type) || (v.type === 'string' && /^[rbuf]*(""|'')$/i.test(v.text)));
  const bindsHere = new RegExp(`(?<![\\w$])(?:const|let|var)\\s+${pattern}(?![\\w$])|^\\s*${pattern}\\s*(?::[^=\\n]*)?=(?!=)`, 'm');
  const word = new RegExp(`(?<![\\w$])${pattern}(?![\\w$])`);
  for (let fn = enclosingFunction(value); fn; fn = enclosingFunction(fn)) {
    if (word.test(fn.childForFieldName('parameters')?.text ?? '') || bindsHere.test(fn.text.slice(0, value.startIndex - fn.startIndex))) return undefined;
  }
  const root = value.tree.rootNode;
  if (root.type === 'module') {
    const bindings = root.namedChildren.flatMap((st) => {
      const a = st?.type === 'expression_statement' ? st.namedChildren[0] : undefined;
      return a?.type === 'assignment' && a.childForFieldName('left')?.text === name ? [a] : [];
    });
    const only = bindings.length === 1 ? bindings[0]! : undefined;
    // (bound nowhere else: not under an `if` at the top, not through `global` in a function)
    const elsewhere = (root.text.match(new RegExp(`^[ \\t]*${pattern}\\s*(?::[^=\\n]*)?=(?!=)`, 'gm')) ?? []).length > 1;
    return only && empty(only.childForFieldName('right')) && !elsewhere && !new RegExp(`\\bglobal\\s[^\\n]*\\b${pattern}\\b`).test(root.text) ? only.startPosition.row + 1 : undefined;
  }
  for (const st of root.namedChildren) {
    const decl = st?.type === 'export_statement' ? st.childForFieldName('declaration') : st;
    if (decl?.type !== 'lexical_declaration' || decl.child(0)?.text !== 'const') continue;
    for (const d of decl.namedChildren) {
      if (d?.type === 'variable_declarator' && d.childForFieldName('name')?.text === name) return empty(d.childForFieldName('value')) ? d.startPosition.row + 1 : undefined;
    }
  }
  return undefined;
}

/**
 * A token this file mints itself for its own OAuth plumbing and tells apart by a type claim it compares right after
 * verifying (an authorization code, a consent state, a refresh token: `jwt.sign(…)` / `new SignJWT(…)` /
 * `jwt.encode(…)` here, then `if (payload.kind !== 'auth_code') throw …`). Only this server issues and redeems it,
 * and the type check keeps one kind from passing for another. An access token is not one of these: callers present
 * it, and its audience matters even when the server mints it.
 */
function ownTypedToken(call: Node, ctx: FileContext): boolean {
  if (!MINTS.test(ctx.source)) return false;
  const fn = enclosingFunction(call);
  const kinds = fn ? [...fn.text.slice(call.endIndex - fn.startIndex).matchAll(TYPE_CHECK)].map((m) => m[1]!) : [];
  return kinds.length > 0 && kinds.every((k) => !ACCESS_KIND.test(k));
}

/** Signing a JWT: jsonwebtoken / PyJWT / python-jose / jose. */
const MINTS = /\bjwt\.(?:sign|encode)\(|\bnew\s+SignJWT\(/;

/** A type claim compared with a literal (`payload.kind !== 'auth_code'`, `claims.get("type") != "refresh"`): the literal. */
const TYPE_CHECK = /(?:\.(?:kind|type|typ|token_type|tokenType|purpose|token_use)\b|\[\s*["'](?:kind|type|typ|token_type|purpose|token_use)["']\s*\]|\.get\(\s*["'](?:kind|type|typ|token_type|purpose|token_use)["']\s*\))\s*(?:!==|===|!=|==)\s*["'`]([^"'`]*)/g;

/** Type claims of tokens callers present to the server's APIs. */
const ACCESS_KIND = /access|bearer|api|session|id|jwt|at\+jwt|^$/i;

/** Claims a router, a cache or a revocation list reads before (or instead of) verifying: they grant nothing. */
const PEEK_CLAIMS = new Set(['iss', 'exp', 'iat', 'nbf', 'kid', 'alg', 'typ', 'type', 'token_type', 'token_use', 'jti']);

/**
 * Every use of the decode's result reads one of `PEEK_CLAIMS`: `jwt.decode(…)["iss"]`, or `claims = jwt.decode(…)`
 * and then only `claims.get("exp")` / `claims["iss"]` in the enclosing function. A result returned, passed on or
 * read for anything else is not a peek.
 */
function onlyPeeks(call: Node): boolean {
  const peekRead = (node: Node): boolean => {
    const p = node.parent;
    // `"nonce" in claims`: a presence test (telling ID tokens from access tokens) reads no value.
    if (p?.type === 'comparison_operator' && p.namedChildren[0]?.id !== node.id && /\bin\b/.test(p.text.slice(0, node.startIndex - p.startIndex))) return true;
    if (p?.type === 'subscript' && p.childForFieldName('value')?.id === node.id) return PEEK_CLAIMS.has(stringValue(p.childForFieldName('subscript')) ?? '');
    // `isinstance(claims, dict)`: a type test reads no claim.
    if (p?.type === 'argument_list' && p.parent?.type === 'call' && p.parent.childForFieldName('function')?.text === 'isinstance') return true;
    if (p?.type === 'attribute' && p.childForFieldName('object')?.id === node.id && p.childForFieldName('attribute')?.text === 'get' && p.parent?.type === 'call') {
      const first = p.parent.childForFieldName('arguments')?.namedChildren[0];
      return PEEK_CLAIMS.has(stringValue(first) ?? '');
    }
    return false;
  };
  if (peekRead(call)) return true;
  const assign = call.parent;
  const target = assign?.type === 'assignment' ? assign.childForFieldName('left') : undefined;
  if (target?.type !== 'identifier') return false;
  let scope: Node | null = assign!.parent;
  while (scope && scope.type !== 'function_definition' && scope.type !== 'module') scope = scope.parent;
  if (!scope) return false;
  for (const id of descendants(scope, new Set(['identifier']))) {
    if (id.text !== target.text || id.id === target.id) continue;
    if (id.parent?.type === 'assignment' && id.parent.childForFieldName('left')?.id === id.id) continue;
    if (!peekRead(id)) return false;
  }
  return true;
}

/**
 * Whether a `**name` dict built in the enclosing function (`kwargs = {…}`, `kwargs["audience"] = …`) holds `audience`:
 * in the literal or set on every path (`always`), only under an `if` (`sometimes`), `never`, or `unknown` (not built
 * here).
 */
function splatAudience(call: Node, args: Node[], gates: string[] = []): 'always' | 'sometimes' | 'never' | 'unknown' {
  const names = args.filter((a) => a.type === 'dictionary_splat').map((a) => a.namedChildren[0]).filter((n): n is Node => n?.type === 'identifier').map((n) => n.text);
  if (names.length !== 1) return 'unknown';
  let fn: Node | null = call.parent;
  while (fn && fn.type !== 'function_definition' && fn.type !== 'module') fn = fn.parent;
  if (!fn) return 'unknown';
  let built = false;
  let found: 'always' | 'sometimes' | 'never' = 'never';
  for (const a of descendants(fn, new Set(['assignment']))) {
    if (a.startIndex > call.startIndex) continue;
    const left = a.childForFieldName('left');
    const right = a.childForFieldName('right');
    if (left?.type === 'identifier' && left.text === names[0] && right?.type === 'dictionary') {
      built = true;
      if (right.namedChildren.some((p) => p?.type === 'dictionary_splat')) return 'unknown';
      if (right.namedChildren.some((p) => p?.type === 'pair' && stringValue(p.childForFieldName('key')) === 'audience')) found = 'always';
    }
    if (left?.type === 'subscript' && left.childForFieldName('value')?.text === names[0] && stringValue(left.childForFieldName('subscript')) === 'audience' && found !== 'always') {
      // Under an `if` that has a branch (or an implicit `else`) not setting it: only sometimes.
      const setsAudience = (branch: Node) => descendants(branch, new Set(['assignment'])).some((b) => {
        const l = b.childForFieldName('left');
        return l?.type === 'subscript' && l.childForFieldName('value')?.text === names[0] && stringValue(l.childForFieldName('subscript')) === 'audience';
      });
      let conditional = false;
      for (let n: Node | null = a.parent; n && n.id !== fn.id; n = n.parent) {
        if (n.type !== 'if_statement') continue;
        // `if audience:` after `if not audience: raise …` earlier in the function: the branch is always taken.
        if (alwaysTruthy(n.childForFieldName('condition'), fn, n)) continue;
        const branches = [n.childForFieldName('consequence'), ...n.namedChildren.filter((c) => c?.type === 'elif_clause' || c?.type === 'else_clause')].filter((b): b is Node => !!b);
        if (!n.namedChildren.some((c) => c?.type === 'else_clause') || !branches.every(setsAudience)) {
          conditional = true;
          const gate = gateName(n.childForFieldName('condition'));
          if (gate) gates.push(gate);
        }
      }
      found = conditional ? 'sometimes' : 'always';
    }
  }
  return built ? found : 'unknown';
}

/**
 * A condition that is a plain name the function already failed closed on (`if not audience: raise …` or
 * `if audience is None: raise …` before `at`): it is always true there.
 */
function alwaysTruthy(cond: Node | null, fn: Node, at: Node): boolean {
  if (cond?.type !== 'identifier') return false;
  const name = cond.text;
  return descendants(fn, new Set(['if_statement'])).some((i) => {
    if (i.startIndex >= at.startIndex) return false;
    const c = i.childForFieldName('condition')?.text.replace(/\s+/g, ' ');
    if (c !== `not ${name}` && c !== `${name} is None`) return false;
    const body = i.childForFieldName('consequence');
    const first = body?.namedChildren.find((x) => x && x.type !== 'comment');
    return first?.type === 'raise_statement' || (first?.type === 'expression_statement' && /^sys\.exit\(/.test(first.text));
  });
}

/** The enclosing function reads the `aud` (or `azp`) claim in code: a subscript or `.get("aud")`, not a comment. */
function checksAudienceByHand(call: Node): boolean {
  const fn = enclosingFunction(call);
  if (!fn) return false;
  for (const s of descendants(fn, new Set(['string']))) {
    const v = stringValue(s);
    if (v !== 'aud' && v !== 'azp') continue;
    const parent = s.parent;
    if (parent?.type === 'subscript') return true;
    if (parent?.type === 'argument_list' && parent.parent?.type === 'call' && parent.parent.childForFieldName('function')?.type === 'attribute' &&
      parent.parent.childForFieldName('function')!.childForFieldName('attribute')!.text === 'get') return true;
  }
  return false;
}

/** `{"verify_aud": False}` / `{"verify_signature": False}` in an options dict literal or a same-file variable. */
function disabledOption(node: Node, ctx: FileContext, call: Node): { key: string; node: Node; sometimes?: boolean; gate?: string } | undefined {
  const dict = resolveLiteral(node, ctx, call, 'dictionary');
  if (!dict) return undefined;
  for (const pair of dict.namedChildren) {
    if (pair?.type !== 'pair') continue;
    const key = stringValue(pair.childForFieldName('key'));
    const value = pair.childForFieldName('value');
    if ((key === 'verify_aud' || key === 'verify_signature') && value?.type === 'false') return { key, node: dict === node ? pair : call };
    // `"verify_aud": bool(settings.audience)`: checked only when configured.
    if (key === 'verify_aud' && value && value.type !== 'true' && value.type !== 'false') return { key, node: dict === node ? pair : call, sometimes: true, gate: gateName(value) };
  }
  return undefined;
}

function dictHasKey(node: Node, key: string, ctx: FileContext, call: Node): boolean {
  // `{…} | ({"aud": …} if aud else {})`, `(…)`: the key in any part (set when configured).
  if (node.type === 'parenthesized_expression' && node.namedChildren[0]) return dictHasKey(node.namedChildren[0], key, ctx, call);
  if ((node.type === 'binary_operator' && node.childForFieldName('operator')?.text === '|') || node.type === 'conditional_expression') {
    return node.namedChildren.some((part) => !!part && (part.type === 'dictionary' || part.type === 'binary_operator' || part.type === 'parenthesized_expression' || part.type === 'identifier') && dictHasKey(part, key, ctx, call));
  }
  const dict = resolveLiteral(node, ctx, call, 'dictionary');
  if (!dict) return node.type === 'identifier'; // an options variable we cannot see: give it the benefit of the doubt
  return dict.namedChildren.some((p) => p?.type === 'dictionary_splat' || (p?.type === 'pair' && stringValue(p.childForFieldName('key')) === key));
}

/**
 * A literal of the given type, directly or through a variable assigned in the same file (the last assignment
 * before the call, else any). Flow-insensitive on purpose: options dicts are module constants in practice.
 */
function resolveLiteral(node: Node, ctx: FileContext, call: Node, type: string): Node | undefined {
  if (node.type === type) return node;
  if (node.type !== 'identifier') return undefined;
  const py = ctx.family === 'python';
  let best: Node | undefined;
  for (const a of descendants(ctx.tree.rootNode, new Set(py ? ['assignment'] : ['variable_declarator', 'assignment_expression']))) {
    const left = a.childForFieldName(py || a.type === 'assignment_expression' ? 'left' : 'name');
    const right = a.childForFieldName(py || a.type === 'assignment_expression' ? 'right' : 'value');
    if (left?.text !== node.text || !right) continue;
    let r = right;
    while ((r.type === 'as_expression' || r.type === 'satisfies_expression' || r.type === 'parenthesized_expression') && r.namedChildren[0]) r = r.namedChildren[0];
    if (r.type !== type) continue;
    if (!best || a.startIndex < call.startIndex) best = r;
  }
  return best;
}

// ---- JavaScript / TypeScript ----

/**
 * Verifiers configured with one options object, and the key that carries the expected audience there: express-jwt
 * `expressjwt({ secret, audience })`, fast-jwt `createVerifier({ key, allowedAud })`, Hono's `jwt({ secret,
 * verification: { aud } })` middleware.
 */
const OPTIONS_VERIFIERS = new Map<string, string[]>([
  ['express-jwt.expressjwt', ['audience']],
  ['express-jwt.expressJwt', ['audience']],
  ['express-jwt', ['audience']],
  ['fast-jwt.createVerifier', ['allowedAud']],
  ['hono/jwt.jwt', ['aud', 'audience']],
]);

function jsLib(q: string, imports: Imports, call: Node): Lib | undefined {
  // `jsonwebtoken_1.default.verify(…)` as tsc emits a default import: the module's own `verify`.
  q = q.replace(/^((?:@[^./]+\/)?[^.]+)\.default\./, '$1.');
  if (q === 'jose.jwtVerify' || q === 'jose.jwtDecrypt') return 'jose';
  if (q === 'jsonwebtoken.verify') return 'jsonwebtoken';
  // Hono's own JWT helpers: `verify(token, secret, alg)` from 'hono/jwt' (or 'hono/utils/jwt/jwt'), `Jwt.verify`.
  if (/^hono\/(jwt|utils\/jwt(\/jwt)?)\.(verify|Jwt\.verify)$/.test(q)) return 'hono';
  if (OPTIONS_VERIFIERS.has(q)) return 'options-object';
  // Unimported globals / bundler-provided names: recognise the usual spellings only when nothing else binds them.
  if ((q === 'jwtVerify' || q === 'jwtDecrypt') && !imports.names.has(q)) return 'jose';
  // jose reached through an object (`this.jose = await import('jose')`, a namespace passed around): the name is
  // jose's own; a call with a token and a key is its verifier.
  let fn = call.childForFieldName('function');
  if (fn?.type === 'await_expression') fn = fn.namedChildren[0] ?? null; // `await x.jwtVerify<T>(…)`, see `qualify`
  const member = fn?.type === 'member_expression' ? fn.childForFieldName('property')?.text : undefined;
  const args = call.childForFieldName('arguments')?.namedChildren.filter((a) => a && a.type !== 'comment') ?? [];
  if ((member === 'jwtVerify' || member === 'jwtDecrypt') && args.length >= 2) return 'jose';
  return undefined;
}

function jsIssue(lib: Lib, call: Node, ctx: FileContext, q: string): Issue | undefined {
  const args = call.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => !!a && a.type !== 'comment') ?? [];
  const label = shortText(call.childForFieldName('function')!, 40);
  if (lib === 'hono' || lib === 'options-object') {
    // Options at the third argument (Hono's `verify`) or the first (the middleware factories); an algorithm string
    // or nothing at all checks no audience. An options object we cannot see gets the benefit of the doubt.
    const keys = lib === 'hono' ? ['aud', 'audience'] : OPTIONS_VERIFIERS.get(q)!;
    const given = args[lib === 'hono' ? 2 : 0];
    const options = given ? resolveLiteral(unwrapTs(given), ctx, call, 'object') : undefined;
    const algorithmOnly = given && (given.type === 'string' || given.type === 'template_string' || !!resolveLiteral(unwrapTs(given), ctx, call, 'string'));
    if (given && !options && !algorithmOnly) return undefined;
    if (options && descendants(options, new Set(['pair', 'shorthand_property_identifier'])).some((p) => keys.includes(propertyName(p)))) return undefined;
    return {
      level: 'error', node: call,
      message: `\`${label}(…)\` verifies the token without an expected audience (${keys.map((k) => `\`${k}\``).join(' / ')}): a token issued for any audience is accepted.`,
      fix: `Pass the audience this server expects (its resource URI) as \`${keys[0]}\`.`,
    };
  }
  let options: Node | undefined = args[2];
  // A TypeScript cast around the literal (`{ … } as any`, `satisfies`, `!`, parentheses) changes nothing at run time.
  while (options && ['as_expression', 'satisfies_expression', 'non_null_expression', 'parenthesized_expression', 'type_assertion'].includes(options.type) && options.namedChildren[0]) {
    options = options.type === 'type_assertion' ? options.namedChildren[options.namedChildren.length - 1]! : options.namedChildren[0]!;
  }
  if (options && (options.type === 'arrow_function' || options.type === 'function_expression' || options.type === 'function')) options = undefined;
  // `cond ? {} : { issuer }`: judged on both branches.
  if (options?.type === 'ternary_expression') {
    const branches = [options.childForFieldName('consequence'), options.childForFieldName('alternative')].map((b) => (b ? unwrapTs(b) : undefined));
    if (branches.every((b) => b?.type === 'object')) {
      const found = branches.map((b) => objectAudience(b!));
      if (found.every((f) => f === 'yes')) return undefined;
      if (found.some((f) => f !== 'no')) return sometimesIssue(call, label, lib);
      options = branches[0]; // neither names it: judged below as one literal without an audience
    }
  }
  if (options && options.type !== 'object') {
    const resolved = resolveLiteral(options, ctx, call, 'object');
    if (!resolved) return undefined; // options from elsewhere: cannot judge, give the benefit of the doubt
    // `opts.audience = …` after the literal sets it; under an `if` only on that branch, unless the setting it is
    // gated on is required at start-up (`if (!config.audience) throw …`).
    const gates: string[] = [];
    const set = options.type === 'identifier' ? assignsMember(ctx, options.text, 'audience', gates) : 'never';
    if (set === 'always' || (set === 'sometimes' && gates.length > 0 && gates.every((g) => requiredAtStartup(ctx.source, g)))) return undefined;
    options = resolved;
    if (set === 'sometimes' && objectAudience(options) !== 'yes') return sometimesIssue(call, label, lib);
  }
  // `verifyToken(token, expectedAudience?)` passing `{ audience: expectedAudience }`: a caller that leaves it out
  // accepts any audience (jose and jsonwebtoken skip the check for `undefined`), and so does the hand check that
  // can only compare with it.
  const optional = options ? optionalAudienceParam(options, call) : undefined;
  if (optional) {
    return {
      level: 'warning', node: call, optional,
      message: `\`${label}(…)\` (${lib === 'jose' ? 'jose' : 'jsonwebtoken'}) takes its audience from the optional parameter \`${optional.param}\` of \`${optional.fn}\`: a call that leaves it out accepts a token issued for any audience.`,
      fix: 'Make the expected audience required (or default it to this server\'s resource URI) and fail closed without it.',
    };
  }
  // `{ audience: this.#audience }` where the class declares that field optional (`#audience?: string`, or a
  // constructor's `audience?` it is set from): an instance built without one accepts any audience, unless the class
  // fails closed without it (`if (!audience) throw …`).
  const field = options ? optionalAudienceField(options) : undefined;
  if (field) {
    return {
      level: 'warning', node: call,
      message: `\`${label}(…)\` (${lib === 'jose' ? 'jose' : 'jsonwebtoken'}) takes its audience from \`${field}\`, which the class declares optional: an instance built without one accepts a token issued for any audience.`,
      fix: 'Make the expected audience required (or default it to this server\'s resource URI) and fail closed without it.',
    };
  }
  const audience = options ? objectAudience(options) : 'no';
  // `if (payload.aud !== CLIENT_ID) throw …` right after, or in a function of this file it hands the claims to
  // (`audienceMatches(payload, clientId)`): the audience is checked by hand.
  if (audience !== 'yes' && checksAudienceNearby(call, ctx)) return undefined;
  const where = lib === 'jose' ? 'jose' : 'jsonwebtoken';
  if (audience === 'yes') return undefined;
  if (audience === 'no' && ownTypedToken(call, ctx)) return undefined;
  if (audience === 'sometimes') return sometimesIssue(call, label, lib);
  const claimKey = options?.namedChildren.some((c) => c?.type === 'pair' && ['aud', 'iss'].includes(propertyName(c)));
  const placeholder = options && placeholderAudience(options);
  return {
    level: 'error', node: call,
    message: (placeholder ?? `\`${label}(…)\` (${where}) verifies the token without an \`audience\` option`) + ': a token issued for any audience is accepted.' +
      (claimKey ? ' (`aud` / `iss` are claim names, not options: the option is `audience` / `issuer`.)' : ''),
    fix: 'Pass `{ audience: RESOURCE_URI }` (with `issuer`) in the verify options.',
  };
}

function unwrapTs(node: Node): Node {
  let n = node;
  while (['as_expression', 'satisfies_expression', 'non_null_expression', 'parenthesized_expression'].includes(n.type) && n.namedChildren[0]) n = n.namedChildren[0];
  return n;
}

function sometimesIssue(call: Node, label: string, lib: Lib): Issue {
  return {
    level: 'warning', node: call,
    message: `\`${label}(…)\` (${lib === 'jose' ? 'jose' : 'jsonwebtoken'}) checks the audience only on one branch (an \`audience\` that can be \`undefined\`, set under a condition, or a conditional spread): when it is left out, a token issued for any audience is accepted.`,
    fix: 'Always pass `{ audience: RESOURCE_URI }`; fail closed when the expected audience is not configured.',
  };
}

/**
 * Whether `object.member = …` is assigned in the file: on every path (`always`), only inside an `if` / `?:` / `&&`
 * (`sometimes`: `if (config.audience) opts.audience = config.audience` leaves it out when unconfigured), or `never`.
 */
function assignsMember(ctx: FileContext, object: string, member: string, gates: string[] = []): 'always' | 'sometimes' | 'never' {
  let found: 'always' | 'sometimes' | 'never' = 'never';
  for (const a of descendants(ctx.tree.rootNode, new Set(['assignment_expression']))) {
    const left = a.childForFieldName('left');
    if (left?.type !== 'member_expression' && left?.type !== 'subscript_expression') continue;
    const obj = left.childForFieldName('object')?.text;
    const prop = left.type === 'member_expression' ? left.childForFieldName('property')?.text : stringValue(left.childForFieldName('index'));
    if (obj !== object || prop !== member) continue;
    if (!conditional(a) || optOutOnly(a)) return 'always';
    found = 'sometimes';
    // `if (config.audience) opts.audience = …`: the setting it depends on.
    let n: Node | null = a.parent;
    while (n && n.type !== 'if_statement' && !FUNCTION_TYPES.has(n.type)) n = n.parent;
    const condition = n?.type === 'if_statement' ? n.childForFieldName('condition')?.text.replace(/^\(\s*|\s*\)$/g, '') : undefined;
    if (condition && /^[\w$.?]+$/.test(condition)) gates.push(condition);
  }
  return found;
}

/**
 * The file refuses to start without the setting: `if (!config.audience) throw …` (also within an `||` of such
 * tests), or gives it a default (`process.env.AUDIENCE || 'my-api'`), so a check gated on it always runs.
 */
function requiredAtStartup(source: string, setting: string): boolean {
  const name = reQuote(setting);
  // …or it always has a value: `const AUDIENCE = process.env.AUDIENCE || 'my-api'` (a non-empty literal default).
  if (new RegExp(`\\b(?:const|let|var)\\s+${name}\\s*=[^;\\n]*(?:\\|\\||\\?\\?)\\s*(['"\`])[^'"\`\\s]+\\1\\s*;?\\s*$`, 'm').test(source)) return true;
  return new RegExp(`if\\s*\\((?:[^()]|\\([^()]*\\))*!\\s*${name}(?![\\w$])(?:[^()]|\\([^()]*\\))*\\)\\s*(?:\\{(?:[^{}]|\\{[^{}]*\\})*?)?\\bthrow\\b`).test(source);
}


/**
 * Set under `if (options.audience !== "*")` (or `!= 'any'`): skipped only when the configuration asks for any audience
 * in so many words, a deliberate opt-out, not a setting left empty.
 */
function optOutOnly(node: Node): boolean {
  let n: Node | null = node.parent;
  while (n && n.type !== 'if_statement' && !FUNCTION_TYPES.has(n.type)) n = n.parent;
  const condition = n?.type === 'if_statement' ? n.childForFieldName('condition')?.text.replace(/^\(\s*|\s*\)$/g, '') : undefined;
  return !!condition && /^[\w$.?]+\s*!==?\s*(["'`])(\*|any)\1$/.test(condition);
}

/** A node runs only on some paths through its function: under an `if`, a ternary, a `&&` / `||`, or a `switch` case. */
function conditional(node: Node): boolean {
  for (let n = node.parent, child: Node = node; n && !FUNCTION_TYPES.has(n.type); child = n, n = n.parent) {
    // An `if` with an `else` gets the benefit of the doubt (the other branch sets it too, or fails).
    if (n.type === 'if_statement' && n.childForFieldName('condition')?.id !== child.id && !n.childForFieldName('alternative')) return true;
    if (n.type === 'ternary_expression' && n.childForFieldName('condition')?.id !== child.id) return true;
    if (n.type === 'binary_expression' && n.childForFieldName('right')?.id === child.id && ['&&', '||', '??'].includes(n.childForFieldName('operator')?.text ?? '')) return true;
    if (n.type === 'switch_case') return true;
  }
  return false;
}

/** Verifier-like function names, whose call sites are counted for `optional`. */
const VERIFIER_NAME = /verif|validat|decode|authenticat|jwt|token/i;

/** `{ audience: expectedAudience }` where `expectedAudience?` is an optional parameter (no default) of the function. */
function optionalAudienceParam(options: Node, call: Node): { fn: string; param: string; index: number } | undefined {
  // `{ audience: expectedAudience }`, or the shorthand `{ audience }` naming the parameter itself.
  const entry = options.namedChildren.find((c) => (c?.type === 'pair' || c?.type === 'shorthand_property_identifier') && propertyName(c) === 'audience');
  const value = entry?.type === 'pair' ? entry.childForFieldName('value') : entry;
  if (value?.type !== 'identifier' && value?.type !== 'shorthand_property_identifier') return undefined;
  let fn: Node | null = call.parent;
  while (fn && !FUNCTION_TYPES.has(fn.type)) fn = fn.parent;
  const name = fn ? functionName(fn) : undefined;
  const params = fn?.childForFieldName('parameters')?.namedChildren.filter((p): p is Node => !!p && p.type !== 'comment') ?? [];
  const index = params.findIndex((p) => p.type === 'optional_parameter' && p.childForFieldName('pattern')?.text === value.text && !p.childForFieldName('value'));
  return name && index >= 0 ? { fn: name, param: value.text, index } : undefined;
}

/**
 * `audience: this.#audience` (or `this.audience`) on a field its class declares optional: `#audience?: string`, a type
 * that admits `undefined`, or a constructor parameter `audience?` (without a default) it is set from or declared as.
 * The field's text, or undefined when the class requires it at start-up.
 */
function optionalAudienceField(options: Node): string | undefined {
  const entry = options.namedChildren.find((c) => c?.type === 'pair' && propertyName(c) === 'audience');
  const value = entry ? unwrapTs(entry.childForFieldName('value')!) : undefined;
  if (value?.type !== 'member_expression' || value.childForFieldName('object')?.type !== 'this') return undefined;
  const name = value.childForFieldName('property')!.text;
  let body: Node | null = value.parent;
  while (body && body.type !== 'class_body') body = body.parent;
  if (!body) return undefined;
  const members = body.namedChildren.filter((m): m is Node => !!m);
  const declared = members.find((m) => m.type === 'public_field_definition' && m.childForFieldName('name')?.text === name);
  const optionalType = (n: Node | undefined) => !!n && (n.children.some((c) => c?.type === '?') || /\bundefined\b/.test(n.childForFieldName('type')?.text ?? ''));
  let optional = optionalType(declared) && !declared!.childForFieldName('value');
  const ctor = members.find((m) => m.type === 'method_definition' && m.childForFieldName('name')?.text === 'constructor');
  const params = ctor?.childForFieldName('parameters')?.namedChildren.filter((p): p is Node => !!p) ?? [];
  const bare = name.replace(/^#/, '');
  // `constructor(private audience?: string)`, or `this.#audience = audience` from an optional parameter.
  const paramOf = (p: Node) => p.childForFieldName('pattern')?.text;
  if (params.some((p) => p.type === 'optional_parameter' && paramOf(p) === bare && !p.childForFieldName('value') && p.children.some((c) => c?.type === 'accessibility_modifier' || c?.type === 'readonly'))) optional = true;
  const assigned = ctor?.descendantsOfType('assignment_expression').find((a) => a?.childForFieldName('left')?.text === `this.${name}`)?.childForFieldName('right');
  if (assigned?.type === 'identifier' && params.some((p) => p.type === 'optional_parameter' && paramOf(p) === assigned.text && !p.childForFieldName('value'))) optional = true;
  if (!optional) return undefined;
  // …unless the constructor or the class refuses to run without it.
  if (requiredAtStartup(body.text, `this.${name}`) || requiredAtStartup(body.text, assigned?.type === 'identifier' ? assigned.text : bare)) return undefined;
  return value.text;
}

/** `audience: AUDIENCE` naming a placeholder bound to nothing, said as the finding's opening, or undefined. */
function placeholderAudience(obj: Node): string | undefined {
  for (const c of obj.namedChildren) {
    const value = c?.type === 'pair' && propertyName(c) === 'audience' ? c.childForFieldName('value') : undefined;
    const line = value ? emptyConstant(value) : undefined;
    if (line) return `The verify options pass \`audience: ${value!.text}\`, but \`${value!.text}\` is bound to nothing (line ${line})`;
  }
  return undefined;
}

/** The name of an object literal's property: a pair's key (quoted or not), or a shorthand's name. */
function propertyName(p: Node): string {
  return p.type === 'pair' ? stringValue(p.childForFieldName('key')!) ?? p.childForFieldName('key')!.text : p.text;
}

/**
 * Whether an options object sets `audience`: yes, no, or only sometimes (`audience: cond ? aud : undefined`,
 * `...(cond ? { audience } : {})`). A spread we cannot see into gets the benefit of the doubt.
 */
function objectAudience(obj: Node): 'yes' | 'no' | 'sometimes' {
  let sometimes = false;
  for (const c of obj.namedChildren) {
    if (!c) continue;
    if (c.type === 'spread_element') {
      let inner = c.namedChildren[0];
      while (inner?.type === 'parenthesized_expression') inner = inner.namedChildren[0];
      if (inner?.type !== 'ternary_expression') return 'yes';
      const branches = [inner.childForFieldName('consequence'), inner.childForFieldName('alternative')].map((b) => (b?.type === 'object' ? objectAudience(b) : 'yes'));
      if (branches.every((b) => b === 'yes')) return 'yes';
      if (branches.some((b) => b === 'yes')) sometimes = true;
      continue;
    }
    if (c.type === 'shorthand_property_identifier' && c.text === 'audience') return 'yes';
    if (c.type === 'pair') {
      if (propertyName(c) !== 'audience') continue;
      const value = c.childForFieldName('value');
      if (!value || value.type === 'undefined' || value.type === 'null' || emptyLiteral(value, true, false) || emptyConstant(value) !== undefined) return 'no';
      if (value.type === 'ternary_expression' && [value.childForFieldName('consequence'), value.childForFieldName('alternative')].some((b) => b?.type === 'undefined' || b?.type === 'null')) return 'sometimes';
      return 'yes';
    }
  }
  return sometimes ? 'sometimes' : 'no';
}
