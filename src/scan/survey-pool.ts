// Runs pass 1 (see survey.ts) over every file, in worker threads when the scan is large enough to repay starting
// them (one per core, up to four), else on this thread with the next files read while one is parsed. Results come
// back in file order whatever order the workers finish in, so a scan reports the same thing either way.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SourceFile } from './files.ts';
import { readSource, survey, type Survey } from './survey.ts';
import type { SurveyRequest } from './survey-worker.ts';

export type Surveyed = Survey | { skipped: string } | { error: string };

/** Fewer files than this are surveyed on this thread: starting a worker costs about as much as parsing 100 files. */
const WORKER_MIN_FILES = 400;
const MAX_WORKERS = 4;
const READ_AHEAD = 16;
const IN_FLIGHT = 4;

/**
 * Surveys `files`, calling `each(i, result)` in file order. `shown(i)` is the path findings report for file `i`;
 * `threads` overrides how many worker threads survey them (1: none, this thread does).
 */
export async function surveyAll(files: readonly SourceFile[], shown: (i: number) => string, maxBytes: number, each: (i: number, result: Surveyed) => Promise<void>, threads?: number): Promise<void> {
  const workers = threads ?? (files.length >= WORKER_MIN_FILES ? Math.min(MAX_WORKERS, availableParallelism()) : 1);
  if (workers > 1) return inWorkers(files, shown, maxBytes, workers, each);
  const reads = readAhead(files.map((f) => f.abs), maxBytes);
  for (const [i, file] of files.entries()) {
    let result: Surveyed;
    try {
      const text = await reads(i);
      result = typeof text === 'string' ? await survey(shown(i), file.language, text) : text;
    } catch (error) {
      result = { error: (error as Error).message };
    }
    await each(i, result);
  }
}

async function inWorkers(files: readonly SourceFile[], shown: (i: number) => string, maxBytes: number, count: number, each: (i: number, result: Surveyed) => Promise<void>): Promise<void> {
  const done = new Map<number, Surveyed>();
  let next = 0;
  let delivered = 0;
  let delivering = Promise.resolve();
  // (Delivered in order as soon as the file before has been: `each` may await, and must not run twice at once.)
  const deliver = () => {
    delivering = delivering.then(async () => {
      while (done.has(delivered)) {
        const result = done.get(delivered)!;
        done.delete(delivered);
        await each(delivered++, result);
      }
    });
  };
  const pool = Array.from({ length: count }, () => new Worker(new URL('./survey-worker.ts', import.meta.url)));
  try {
    await Promise.all(pool.map((worker) => new Promise<void>((resolve, reject) => {
      // (A few files in flight per worker, so that it reads the next while it parses one and never waits on us.)
      let inFlight = 0;
      const send = () => {
        while (inFlight < IN_FLIGHT && next < files.length) {
          const index = next++;
          const request: SurveyRequest = { index, abs: files[index]!.abs, shown: shown(index), language: files[index]!.language, maxBytes };
          worker.postMessage(request);
          inFlight++;
        }
        if (!inFlight) resolve();
      };
      worker.on('message', (message: { index: number; result?: Survey | { skipped: string }; error?: string }) => {
        inFlight--;
        done.set(message.index, message.error !== undefined ? { error: message.error } : message.result!);
        deliver();
        send();
      });
      worker.once('error', reject);
      send();
    })));
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
  deliver();
  await delivering;
}

/** Reads files ahead of the one being parsed, so the disk and the parser work at once. */
export function readAhead(paths: readonly string[], maxBytes: number): (i: number) => Promise<string | { skipped: string }> {
  const pending = new Map<number, Promise<string | { skipped: string }>>();
  let next = 0;
  return (i) => {
    while (next < paths.length && next <= i + READ_AHEAD) {
      const read = readSource(paths[next]!, maxBytes);
      read.catch(() => undefined); // awaited (and its error handled) when its turn comes
      pending.set(next++, read);
    }
    const read = pending.get(i) ?? readSource(paths[i]!, maxBytes);
    pending.delete(i);
    return read;
  };
}
