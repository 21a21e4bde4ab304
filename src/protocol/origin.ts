// Streamable HTTP §security: servers MUST validate Origin to stop DNS-rebinding attacks from browsers.
// Requests without an Origin (non-browser clients) pass; a present Origin must be allow-listed or be
// the gateway's own origin.
export function originAllowed(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  return allowed.has(origin.endsWith('/') ? origin.slice(0, -1) : origin);
}
