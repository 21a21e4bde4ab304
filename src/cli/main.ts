// Entry point of the `deputy` CLI. Each subcommand lives in its own module and returns an exit code:
// 0 success, 1 findings/errors the command was asked to detect, 2 usage or runtime errors.
import { UsageError } from './args.ts';

export { parseFlags, UsageError } from './args.ts';

type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  serve: { summary: 'run the gateway            deputy serve --config deputy.yaml', load: () => import('./serve.ts') },
  check: { summary: 'validate + security lint   deputy check --config deputy.yaml [--json]', load: () => import('./check.ts') },
  scan: { summary: 'find token passthrough     deputy scan PATH… [--format text|json|sarif] [--fail-on error|warning|none]', load: () => import('./scan.ts') },
  tools: { summary: 'pinned tool changes        deputy tools diff|approve [--upstream U] [--tool T]', load: () => import('./tools.ts') },
  connections: { summary: 'connected accounts         deputy connections list|revoke [--subject S] [--upstream U] [--json]', load: () => import('./connections.ts') },
  audit: { summary: 'audit events / chain check deputy audit [verify] [--config F] [--since 1h] [--json]', load: () => import('./audit.ts') },
  demo: { summary: 'self-contained demo        deputy demo (what `npm start` runs)', load: () => import('./demo.ts') },
};

export const usage = `deputy — MCP authorization gateway

Usage: deputy <command> [options]

Commands:
${Object.entries(commands).map(([name, c]) => `  ${name.padEnd(11)} ${c.summary}`).join('\n')}

Options:
  -h, --help      show help (also: deputy <command> --help)
  -v, --version   print the version

Exit codes: 0 ok · 1 errors or findings · 2 usage error`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    console.log(usage);
    return 0;
  }
  if (name === '-v' || name === '--version') {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    console.log(pkg.version);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`deputy: unknown command '${name}'\n\n${usage}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

/** Runs the CLI as a process: sets the exit code, never throws. */
export async function cli(argv = process.argv.slice(2)): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    console.error(error instanceof UsageError ? error.message : `deputy: ${(error as Error).message}`);
    process.exitCode = 2;
  }
}

// No top-level await: subcommand modules import from here, and awaiting would deadlock that import.
if (import.meta.main) void cli();
