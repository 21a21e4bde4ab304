import { resolve } from 'node:path';
import { instructions, startDemo } from '../demo/run.ts';
import { parseFlags, UsageError } from './args.ts';

const help = `Usage: deputy demo [--port 8080]

Starts a development authorization server, a sample MCP server and Deputy in front, on 127.0.0.1,
and prints commands to get a token and call a tool. Ports: Deputy on --port (default 8080, or
DEPUTY_DEMO_PORT), the authorization server on port+1320, the sample MCP server on port+1321,
the sample REST API on port+1322.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('demo', argv, { port: { type: 'string', default: process.env.DEPUTY_DEMO_PORT ?? '8080' }, 'data-dir': { type: 'string', default: '.deputy-demo' } });
  if (values.help) return void console.log(help), 0;
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 30000) throw new UsageError(`deputy demo: --port must be an integer between 1 and 30000, got ${values.port}`);
  const dataDir = resolve(String(values['data-dir']));
  let demo;
  try {
    demo = await startDemo({ port, asPort: port + 1320, upstreamPort: port + 1321, apiPort: port + 1322, dataDir });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`deputy demo: a port is already in use (${(error as Error).message}); try: npm start -- --port 8180`);
      return 2;
    }
    throw error;
  }
  console.log(instructions(demo, dataDir));
  await new Promise<void>((done) => {
    const stop = () => {
      console.log('\nstopping…');
      demo.close().then(done, done);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
