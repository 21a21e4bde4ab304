// Project-level MCP gating. `authorization-passthrough` only makes sense in code that serves MCP, but the forwarding
// often lives in a helper module that never imports the MCP library itself, so the decision is made per project:
// the nearest folder with a manifest (package.json, deno.json, pyproject.toml, setup.py, setup.cfg, Pipfile, requirements*.txt).
// A project is "MCP" when a manifest declares an MCP server library or any scanned file in it imports one.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** npm packages that serve MCP. */
export const MCP_NPM_PACKAGES: ReadonlySet<string> = new Set([
  '@modelcontextprotocol/sdk', '@modelcontextprotocol/server', '@modelcontextprotocol/core', '@modelcontextprotocol/node',
  '@modelcontextprotocol/express', '@modelcontextprotocol/hono', 'fastmcp', 'mcp-framework', 'mcp-handler',
  '@vercel/mcp-adapter', '@hono/mcp', '@mastra/mcp', 'xmcp', 'mcp-proxy', 'tmcp', '@tmcp/transport-http',
  '@decocms/runtime', 'mcp-lite', '@rekog/mcp-nest',
]);

/** PyPI distributions that serve MCP (normalised names). */
export const MCP_PYPI_PACKAGES: ReadonlySet<string> = new Set([
  'mcp', 'fastmcp', 'fastapi-mcp', 'django-mcp-server', 'flask-mcp', 'mcp-proxy', 'fastmcp-server',
]);

/** Python top-level modules whose import marks a file as MCP server code. */
export const MCP_PYTHON_MODULES: ReadonlySet<string> = new Set(['mcp', 'fastmcp', 'fastapi_mcp', 'mcp_server', 'mcp_proxy']);

/**
 * A specifier as a package name and path: `node:http` is `http`; Deno's `npm:hono@4/cors` and `jsr:@std/path@1` are
 * `hono/cors` and `@std/path` (the registry prefix and the version dropped).
 */
export function normaliseSpecifier(spec: string): string {
  if (spec.startsWith('node:')) return spec.slice(5);
  const deno = /^(?:npm|jsr):(@[^/@]+\/[^/@]+|[^/@]+)(?:@[^/]*)?(\/.*)?$/.exec(spec);
  return deno ? deno[1]! + (deno[2] ?? '') : spec;
}

/** Whether a JS/TS module specifier is an MCP server library. */
export function isMcpNpmSpecifier(spec: string): boolean {
  if (spec.startsWith('@modelcontextprotocol/')) return true;
  // Cloudflare's `agents` package serves MCP from its `agents/mcp` entry point (`McpAgent`); the rest is not MCP.
  if (spec === 'agents/mcp' || spec.startsWith('agents/mcp/')) return true;
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  // Forks and scoped republishes of the frameworks (`firecrawl-fastmcp`, `@acme/fastmcp`), and a vendor's own MCP
  // framework published under its scope (`@lovable.dev/mcp-js`, `@acme/mcp-server`).
  return MCP_NPM_PACKAGES.has(name) || /(^|[-/])fastmcp$/.test(name) || /^@[^/]+\/mcp(-js|-sdk|-server|-framework)?$/.test(name);
}

const MANIFESTS = ['package.json', 'deno.json', 'deno.jsonc', 'pyproject.toml', 'setup.py', 'setup.cfg', 'Pipfile'];

export interface Project {
  root: string;
  /** Declared in a manifest; imports found while scanning are added by the scanner. */
  declaresMcp: boolean;
}

export class ProjectIndex {
  #byDir = new Map<string, Promise<Project | undefined>>();

  /** The project a file belongs to; files with no manifest above them belong to their scan root. */
  async projectOf(fileAbs: string, scanRoot: string): Promise<Project> {
    const found = await this.#nearest(path.dirname(fileAbs));
    return found ?? (await this.#fallback(scanRoot));
  }

  #fallbacks = new Map<string, Project>();
  async #fallback(scanRoot: string): Promise<Project> {
    let p = this.#fallbacks.get(scanRoot);
    if (!p) this.#fallbacks.set(scanRoot, (p = { root: scanRoot, declaresMcp: false }));
    return p;
  }

  #nearest(dir: string): Promise<Project | undefined> {
    let cached = this.#byDir.get(dir);
    if (!cached) {
      cached = (async () => {
        const manifests = await manifestsIn(dir);
        if (manifests.length) return { root: dir, declaresMcp: await declaresMcp(dir, manifests) };
        const parent = path.dirname(dir);
        return parent === dir ? undefined : this.#nearest(parent);
      })();
      this.#byDir.set(dir, cached);
    }
    return cached;
  }
}

async function manifestsIn(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names.filter((n) => MANIFESTS.includes(n) || (n.startsWith('requirements') && n.endsWith('.txt')));
}

async function declaresMcp(dir: string, manifests: string[]): Promise<boolean> {
  for (const name of manifests) {
    const text = await readFile(path.join(dir, name), 'utf8').catch(() => '');
    // A project named as an MCP server, proxy or gateway (`hubspot-mcp-proxy`, `@acme/mcp-gateway`) serves or relays
    // it, even when it speaks the protocol without an MCP library (a proxy in front of a vendor's MCP server). A
    // name with `mcp` alone (`mcp-oauth`, `devops-mcp-nextjs`) can be a library or a client.
    if (namedForMcp(name, text)) return true;
    if (name === 'package.json') {
      if (packageJsonDeclaresMcp(text)) return true;
    } else if (name.startsWith('deno.json')) {
      if (denoJsonDeclaresMcp(text)) return true;
    } else if (pythonRequirementNames(text).some((n) => MCP_PYPI_PACKAGES.has(n))) {
      return true;
    }
  }
  return false;
}

/** Whether a manifest's own package name says it serves or relays MCP (`mcp-server-x`, `hubspot-mcp-proxy`, `@org/mcp-gateway`). */
export function namedForMcp(manifest: string, text: string): boolean {
  let name: string | undefined;
  if (manifest === 'package.json' || manifest.startsWith('deno.json')) {
    try {
      name = (JSON.parse(manifest === 'package.json' ? text : text.replace(/^\s*\/\/.*$/gm, '')) as { name?: unknown }).name as string | undefined;
    } catch {
      return false;
    }
  } else {
    // pyproject.toml `[project]` / `[tool.poetry]`, setup.cfg `[metadata]`: the first `name = "…"`; setup.py `name="…"`.
    name = /^\s*name\s*=\s*["']?([A-Za-z0-9@/._-]+)/m.exec(text)?.[1] ?? /\bname\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(text)?.[1];
  }
  return typeof name === 'string' && /(^|[-_@/.])mcp([-_/.]|$)/i.test(name) && /(^|[-_@/.])(servers?|proxy|gateway|bridge|relay|remote)([-_/.]|$)/i.test(name);
}

export function packageJsonDeclaresMcp(text: string): boolean {
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return false;
  }
  for (const key of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
    const deps = pkg[key];
    if (deps && typeof deps === 'object' && Object.keys(deps).some(isMcpNpmSpecifier)) return true;
  }
  return false;
}

/** A Deno project's import map naming an MCP package (`"imports": { "@modelcontextprotocol/sdk": "npm:@modelcontextprotocol/sdk@^1" }`). */
export function denoJsonDeclaresMcp(text: string): boolean {
  let config: { imports?: Record<string, unknown> };
  try {
    // deno.jsonc may hold line comments.
    config = JSON.parse(text.replace(/^\s*\/\/.*$/gm, '')) as typeof config;
  } catch {
    return false;
  }
  return Object.entries(config.imports ?? {}).some(([k, v]) => isMcpNpmSpecifier(k) || (typeof v === 'string' && isMcpNpmSpecifier(normaliseSpecifier(v))));
}

/**
 * Requirement names mentioned in a Python manifest: each line of a requirements file, each quoted string of
 * pyproject/setup files (PEP 508 strings) and each `name =` key of Poetry/Pipfile tables. Normalised per PEP 503.
 * Over-collecting (a quoted description word) is harmless: it would only have to equal an MCP package name.
 */
export function pythonRequirementNames(text: string): string[] {
  const names: string[] = [];
  const add = (candidate: string) => {
    const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?:[<>=!~;@(]|$)/.exec(candidate);
    if (m) names.push(m[1]!.toLowerCase().replace(/[._]+/g, '-'));
  };
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    add(trimmed);
    const key = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*=/.exec(trimmed);
    if (key) add(key[1]!);
    for (const q of trimmed.matchAll(/"([^"]*)"|'([^']*)'/g)) add(q[1] ?? q[2] ?? '');
  }
  return [...new Set(names)];
}
