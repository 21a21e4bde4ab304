// Shared driver of the per-language walkers: passes over the file until function summaries and attribute taints
// settle, sink reporting (one finding per sink node), and summary application at call sites.
import type { Finding } from '../finding.ts';
import { makeFinding, type FileContext } from '../context.ts';
import type { Imports } from '../imports.ts';
import type { Node } from '../parser.ts';
import { applyReturns, carriesCredential, emptySummary, sourceCounter, union, type Frame, type Summary, type Taints } from './core.ts';

export const PASSTHROUGH_RULE = 'authorization-passthrough';
const PASSES = 3;

export const PASSTHROUGH_FIX =
  "Don't forward the caller's token. Get a token for the downstream API yourself: OAuth client credentials, " +
  'an on-behalf-of / RFC 8693 token exchange, or the server\'s own secret.';

export abstract class Engine {
  readonly ctx: FileContext;
  readonly imports: Imports;
  /** Function summaries keyed by name (`f`, or `Class.m` for methods). */
  readonly summaries = new Map<string, Summary>();
  /** Taints of `self.x` / `this.x`, keyed `Class.x`, accumulated over all methods. */
  readonly attrs = new Map<string, Taints>();
  /** Names bound to HTTP client objects (`client = httpx.Client()`), whose `.headers` are sent. */
  readonly clients = new Set<string>();
  readonly #findings = new Map<number, Finding>();
  protected pass = 0;

  constructor(ctx: FileContext, imports: Imports) {
    this.ctx = ctx;
    this.imports = imports;
  }

  protected abstract walkModule(root: Node): void;

  run(): Finding[] {
    const before = sourceCounter.count;
    for (this.pass = 0; this.pass < PASSES; this.pass++) {
      this.walkModule(this.ctx.tree.rootNode);
      // No inbound source anywhere in the file: later passes cannot find one either.
      if (sourceCounter.count === before) break;
    }
    return [...this.#findings.values()];
  }

  /** A tainted value reached an outbound request at `node`: report it, or record it in the summary for parameters. */
  reportSink(frame: Frame, node: Node, taints: Taints, what: string): void {
    const bad = carriesCredential(taints);
    if (!bad.length || frame.exempt) return;
    for (const t of bad) {
      if (t.param !== undefined) {
        const summary = frame.summary;
        if (summary && !summary.sinks.some((s) => s.node.id === node.id && s.param === t.param)) summary.sinks.push({ param: t.param, node, what });
      }
    }
    const real = bad.find((t) => t.origin);
    if (real) this.#report(node, real, what);
  }

  #report(node: Node, taint: { origin?: { line: number; text: string } }, what: string, via?: number): void {
    if (this.#findings.has(node.id)) return;
    const o = taint.origin!;
    const through = via ? ` (passed in by the call on line ${via})` : '';
    const message = `Inbound credential \`${o.text}\` (line ${o.line}) is forwarded into ${what}${through}. ` +
      'A token issued to this server must not be replayed to another service (MCP security best practices: token passthrough).';
    this.#findings.set(node.id, makeFinding(this.ctx, PASSTHROUGH_RULE, 'error', node, message, PASSTHROUGH_FIX));
  }

  /** Applies a same-file function's summary at a call site: its sinks fire for tainted arguments. */
  applySummary(frame: Frame, summary: Summary, args: Taints[], call: Node): Taints {
    for (const sink of summary.sinks) {
      const arg = carriesCredential(args[sink.param] ?? []);
      if (!arg.length || frame.exempt) continue;
      for (const t of arg) {
        if (t.param !== undefined && frame.summary && !frame.summary.sinks.some((s) => s.node.id === sink.node.id && s.param === t.param)) {
          frame.summary.sinks.push({ param: t.param, node: sink.node, what: sink.what });
        }
      }
      const real = arg.find((t) => t.origin);
      if (real) this.#report(sink.node, real, sink.what, call.startPosition.row + 1);
    }
    return applyReturns(summary, args);
  }

  summaryFor(key: string): Summary {
    let s = this.summaries.get(key);
    if (!s) this.summaries.set(key, (s = emptySummary()));
    return s;
  }

  addAttr(key: string, taints: Taints): void {
    if (!taints.length) return;
    this.attrs.set(key, union(this.attrs.get(key) ?? [], taints));
  }
}
