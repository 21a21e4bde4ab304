// Rule `authorization-passthrough`: an inbound request credential flows into an outbound HTTP request.
// The work is done by the per-language taint walkers; this module holds the rule's metadata and dispatch.
import type { FileContext } from '../context.ts';
import type { Finding, RuleMeta } from '../finding.ts';
import type { Imports } from '../imports.ts';
import type { Program } from '../program.ts';
import { PASSTHROUGH_RULE } from '../taint/engine.ts';
import { JavaScriptEngine } from '../taint/javascript.ts';
import { PythonEngine } from '../taint/python.ts';

export const HELP_URI = 'https://modelcontextprotocol.io/specification/2025-06-18/basic/security_best_practices#token-passthrough';

export const authorizationPassthrough: RuleMeta = {
  id: PASSTHROUGH_RULE,
  name: 'AuthorizationPassthrough',
  shortDescription: 'Inbound request credential forwarded to an outbound HTTP request',
  fullDescription:
    "An MCP server takes the caller's credential (the inbound Authorization header, a cookie, an API-key header or the " +
    "verified access token) and sends it to another service. The token was issued for this server's audience; " +
    'replaying it downstream is token passthrough, which the MCP security best practices forbid (MUST NOT).',
  help:
    'Do not forward the inbound token. Acquire a credential for the downstream API: OAuth client credentials, an ' +
    'on-behalf-of / RFC 8693 token exchange whose result is audience-bound to that API, or the server\'s own secret ' +
    '(environment, config, secrets manager).',
  helpMarkdown: [
    '**Token passthrough.** The value of an inbound credential reaches the headers of an outbound HTTP request.',
    '',
    'A token issued to this MCP server has this server as its audience. Forwarding it lets any holder replay it',
    'across services and defeats audience validation; the MCP security best practices make this a **MUST NOT**.',
    '',
    'Fix: obtain a token *for the downstream API*, e.g. an RFC 8693 token exchange or on-behalf-of flow (the inbound',
    'token goes only to the token endpoint), OAuth client credentials, or the server\'s own secret:',
    '',
    '```python',
    'token = exchange_token(inbound_token, audience="https://api.example.com")',
    'httpx.get(url, headers={"Authorization": f"Bearer {token}"})',
    '```',
  ].join('\n'),
  helpUri: HELP_URI,
  defaultLevel: 'error',
  tags: ['security', 'mcp', 'oauth', 'token-passthrough', 'external/cwe/cwe-441'],
  securitySeverity: 8.1,
};

/** Analyses one file against the program (what the other files export and store); `deps` says what it used. */
export function checkAuthorizationPassthrough(ctx: FileContext, imports: Imports, program: Program): { findings: Finding[]; deps: Map<string, number> } {
  const engine = ctx.family === 'python' ? new PythonEngine(ctx, imports, program) : new JavaScriptEngine(ctx, imports, program);
  const findings = engine.run();
  return { findings, deps: engine.deps };
}
