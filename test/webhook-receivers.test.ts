import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebhookEmitter, verifyWebhook } from '@hiwelink/core';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';

// The receiving side as the README shows it for each framework: verify the raw bytes first,
// parse the JSON after. A receiver that parsed first would re-serialize and break the signature.
const SECRET = `whsec_${Buffer.from('receiver test secret, 32 bytes!').toString('base64')}`;
const seen: unknown[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  seen.length = 0;
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

function expressReceiver() {
  const app = express();
  app.post(
    '/api/generic-api/webhooks/:token/:topic',
    express.raw({ type: 'application/json' }),
    (req, res) => {
      const check = verifyWebhook(req.body, req.headers, SECRET);
      if (!check.ok) return void res.status(401).json({ error: check.reason });
      seen.push(JSON.parse(req.body.toString('utf8')));
      res.json({ success: true });
    },
  );
  return createServer(app);
}

async function fastifyReceiver() {
  const app = Fastify();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/api/generic-api/webhooks/:token/:topic', async (req, reply) => {
    const raw = req.body as Buffer;
    const check = verifyWebhook(raw, req.headers, SECRET);
    if (!check.ok) return reply.code(401).send({ error: check.reason });
    seen.push(JSON.parse(raw.toString('utf8')));
    return { success: true };
  });
  await app.ready();
  return app.server;
}

function koaReceiver() {
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method !== 'POST' || !ctx.path.startsWith('/api/generic-api/webhooks/')) return;
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const check = verifyWebhook(raw, ctx.headers, SECRET);
    if (!check.ok) {
      ctx.status = 401;
      ctx.body = { error: check.reason };
      return;
    }
    seen.push(JSON.parse(raw.toString('utf8')));
    ctx.body = { success: true };
  });
  return createServer(app.callback());
}

describe.each([
  ['express', async () => expressReceiver()],
  ['fastify', fastifyReceiver],
  ['koa', async () => koaReceiver()],
])('%s receiver', (_name, make) => {
  it('verifies a signed delivery from the raw body and refuses a forged one', async () => {
    const server = await make();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const emitter = createWebhookEmitter(
      { url, storeToken: 'tok', secret: SECRET, logger: { warn() {}, error() {} } },
      {},
    );
    emitter.productUpdated({ id: 1, name: 'Mug ☕', price: 12.5 });
    expect((await emitter.close(5000)).delivered).toBe(1);
    expect(seen).toEqual([{ event: 'product.updated', data: { id: '1', name: 'Mug ☕', price: 12.5 } }]);

    const forged = await fetch(`${url}/api/generic-api/webhooks/tok/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-signature': `sha256=${'0'.repeat(64)}` },
      body: '{"event":"product.deleted","data":{"id":"1"}}',
    });
    expect(forged.status).toBe(401);
    expect(seen).toHaveLength(1);
  });
});
