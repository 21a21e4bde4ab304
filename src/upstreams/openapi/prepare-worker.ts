// Worker thread for one OpenAPI upstream: loads, validates and converts the spec (seconds of CPU for
// a spec the size of Kubernetes') off the event loop, and posts back the plain-data result in batches:
// each message is a separate task on the main thread, so decoding never blocks it for long.
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from '../../config/errors.ts';
import { prepareToolset, type PrepareInput } from './toolset.ts';

const PLANS_PER_MESSAGE = 50;

try {
  const { plans, ...rest } = await prepareToolset(workerData as PrepareInput);
  for (let i = 0; i < plans.length; i += PLANS_PER_MESSAGE) parentPort!.postMessage({ plans: plans.slice(i, i + PLANS_PER_MESSAGE) });
  parentPort!.postMessage({ ok: true, prepared: { ...rest, plans: [] } });
} catch (error) {
  if (error instanceof ConfigError) parentPort!.postMessage({ ok: false, issues: error.issues, message: error.message });
  else parentPort!.postMessage({ ok: false, message: (error as Error).message });
}
