import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createWebhookEmitter, verifyWebhook } from '@hiwelink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver } from './support/receiver.js';

const bin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const SECRET = 'cli webhook test secret';
const children: ChildProcess[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(closers.splice(0).map((close) => close()));
});

function run(args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Starts `hiwelink webhooks listen` on a free port; `output()` is everything it printed so far. */
async function startListener(args: string[]) {
  const child = spawn(process.execPath, [
    bin,
    'webhooks',
    'listen',
    '--port',
    '0',
    '--secret',
    SECRET,
    ...args,
  ]);
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  while (!/Listening for HiWelink webhooks on (\S+)/.test(output)) await once(child.stdout, 'data');
  const url = /Listening for HiWelink webhooks on (\S+)/.exec(output)?.[1] as string;
  return { child, url, output: () => output };
}

describe('hiwelink webhooks', () => {
  it('listen prints each event, checks its signature and answers the statuses in turn', async () => {
    const { child, url, output } = await startListener(['--status', '500', '--status', '200']);

    const emitter = createWebhookEmitter(
      {
        url,
        storeToken: 'local',
        secret: SECRET,
        retryDelaysMs: [20],
        jitter: 0,
        logger: { warn() {}, error() {} },
      },
      {},
    );
    emitter.productUpdated({ id: 7, name: 'Mug' });
    const report = await emitter.close(5000);
    expect(report.delivered).toBe(1);
    const lines = output()
      .split('\n')
      .filter((line) => line.includes('product.updated  id='));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('/api/generic-api/webhooks/local/products');
    expect(lines[0]).toContain('signature valid (standard-webhooks)');
    expect(lines[0]).toMatch(/→ 500$/);
    expect(lines[1]).toMatch(/→ 200$/);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('listen flags a forged signature', async () => {
    const { child, url, output } = await startListener([]);
    const sent = await run(['webhooks', 'send', `${url}/hooks`, '--secret', 'another secret']);
    expect(sent.code).toBe(0);
    while (!output().includes('signature')) await once(child.stdout, 'data');
    expect(output()).toContain('signature INVALID: signature mismatch');
  });

  it('send posts one signed test event and exits 0 on 2xx, 1 otherwise', async () => {
    const receiver = await startReceiver((_request, index) => ({ status: index === 0 ? 200 : 503 }));
    closers.push(receiver.close);
    const ok = await run([
      'webhooks',
      'send',
      `${receiver.url}/hooks`,
      '--secret',
      SECRET,
      '--event',
      'order.updated',
    ]);
    expect(ok.code).toBe(0);
    const [entry] = receiver.received;
    expect(entry?.body.event).toBe('order.updated');
    expect(verifyWebhook(entry?.raw ?? '', entry?.headers ?? {}, SECRET)).toEqual({
      ok: true,
      scheme: 'standard-webhooks',
    });
    const failed = await run(['webhooks', 'send', `${receiver.url}/hooks`]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('503');
    expect(failed.stdout).toContain('unsigned');
  });
});

describe('hiwelink keygen', () => {
  it('prints a prefixed 256-bit key, its digest and the .env line', async () => {
    const { code, stdout } = await run(['keygen', '--json', '--prefix', 'hwk_test_']);
    expect(code).toBe(0);
    const { key, digest, env } = JSON.parse(stdout) as { key: string; digest: string; env: string };
    expect(key).toMatch(/^hwk_test_[0-9a-f]{64}$/);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(env).toBe(`HIWELINK_API_KEY=${key}`);
    const again = JSON.parse((await run(['keygen', '--json'])).stdout) as { key: string };
    expect(again.key).not.toBe(key);
  });
});
