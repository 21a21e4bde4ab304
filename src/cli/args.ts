import { parseArgs } from 'node:util';

/** Shared by subcommands: parse flags, turning parse errors into exit code 2 with a hint. */
export function parseFlags<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(`deputy ${command}: ${(error as Error).message}\nRun 'deputy ${command} --help' for usage.`);
  }
}

export class UsageError extends Error {
  override name = 'UsageError';
}

