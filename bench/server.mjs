// Child-process entry: `node bench/server.mjs <server-id>`, forked by run.mjs with an IPC channel.
// Starts one server, reports { port } to the parent, answers { type: 'cpu' } with its CPU time so
// far, and exits when the parent goes away.

import { startServer } from './servers.mjs';

const id = process.argv[2];
try {
  const port = await startServer(id);
  process.send?.({ type: 'ready', port });
} catch (error) {
  process.send?.({
    type: 'failed',
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  process.exit(1);
}
process.on('message', (message) => {
  if (message?.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ type: 'cpu', micros: user + system });
  }
});
process.on('disconnect', () => process.exit(0));
