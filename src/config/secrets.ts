// Secret references: `{ env: NAME }` or `{ file: PATH }`. Values are resolved at load time (a missing
// variable or file is a load error) and file secrets are re-read when the file changes, so rotated
// credentials are picked up without a restart. A Secret never prints its value.
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { resolve } from 'node:path';
import { inspect } from 'node:util';

export type SecretSource = { kind: 'env'; name: string } | { kind: 'file'; path: string } | { kind: 'literal' };

export class Secret {
  readonly source: SecretSource;
  #value: string;
  #watcher?: FSWatcher;

  constructor(source: SecretSource, value: string) {
    this.source = source;
    this.#value = value;
  }

  /** The current value. For file secrets this reflects the latest content of the file. */
  value(): string {
    return this.#value;
  }

  /** Where the secret comes from, safe to print (`env:NAME`, `file:/path`, `literal`). */
  describe(): string {
    const s = this.source;
    return s.kind === 'env' ? `env:${s.name}` : s.kind === 'file' ? `file:${s.path}` : 'literal';
  }

  /** Start re-reading a file secret when it changes (no-op for other kinds). */
  watch(onError: (message: string) => void = () => {}): void {
    if (this.source.kind !== 'file' || this.#watcher) return;
    const path = this.source.path;
    try {
      this.#watcher = watch(path, { persistent: false }, () => {
        try {
          this.#value = readSecretFile(path);
        } catch (error) {
          onError(`secret file ${path} could not be re-read (keeping the previous value): ${(error as Error).message}`);
        }
      });
    } catch (error) {
      onError(`cannot watch secret file ${path}: ${(error as Error).message}`);
    }
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  toString(): string {
    return `[secret ${this.describe()}]`;
  }
  toJSON(): string {
    return this.toString();
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

/** Secret files conventionally end with a newline (`echo x > f`, Kubernetes mounts); it is not part of the secret. */
export function readSecretFile(path: string): string {
  const content = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  if (content === '') throw new Error('file is empty');
  return content;
}

/** Resolves a reference; throws a message (without any secret value) when it cannot. */
export function resolveSecret(source: SecretSource, baseDir: string, env: NodeJS.ProcessEnv, literal?: string): Secret {
  switch (source.kind) {
    case 'env': {
      const value = env[source.name];
      if (value === undefined || value === '') throw new Error(`environment variable ${source.name} is not set; export it or use { file: PATH }`);
      return new Secret(source, value);
    }
    case 'file': {
      const path = resolve(baseDir, source.path);
      try {
        if (!statSync(path).isFile()) throw new Error('not a regular file');
        return new Secret({ kind: 'file', path }, readSecretFile(path));
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
        throw new Error(`secret file ${path} cannot be read (${reason})`);
      }
    }
    case 'literal':
      return new Secret(source, literal ?? '');
  }
}
