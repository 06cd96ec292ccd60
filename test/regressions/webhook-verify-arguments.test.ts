// The kind: the receiver-side helper given something other than what it needs (a body the
// framework already parsed, no body at all, no headers, no secret because the variable is unset).
// Each must be a TypeError that says what to pass, and for the body how to get it in Express,
// Fastify and Koa, never Node's generic error about Buffers or `startsWith`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { signatureHeaders, signingKey, verifyWebhook } from '@hiwelink/core';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';

const SECRET = 'receiver test secret, 32 bytes!!';
const BODY = '{"event":"product.updated","data":{"id":"1"}}';
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

/** What verifyWebhook threw (or returned) inside the route, as the route answered it. */
function report(run: () => unknown) {
  try {
    return { result: run() };
  } catch (error) {
    return { thrown: (error as Error).name, message: (error as Error).message };
  }
}

async function listen(server: Server) {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const receivers = {
  // The common mistake: express.json() in front, so req.body is an object.
  express: () => {
    const app = express();
    app.post('/hooks', express.json(), (req, res) => {
      res.json(report(() => verifyWebhook(req.body, req.headers, SECRET)));
    });
    return listen(createServer(app));
  },
  // Fastify's own JSON parser, left in place.
  fastify: async () => {
    const app = Fastify();
    app.post('/hooks', async (req) => report(() => verifyWebhook(req.body as string, req.headers, SECRET)));
    await app.ready();
    return listen(app.server);
  },
  // Koa has no body parser: ctx.request.body is undefined.
  koa: () => {
    const app = new Koa();
    app.use(async (ctx) => {
      const { body } = ctx.request as unknown as { body?: string };
      ctx.body = report(() => verifyWebhook(body as string, ctx.headers, SECRET));
    });
    return listen(createServer(app.callback()));
  },
};

function signed() {
  return {
    'content-type': 'application/json',
    ...signatureHeaders(BODY, signingKey(SECRET), 'msg_1', Math.floor(Date.now() / 1000)),
  };
}

describe('verifyWebhook says what to pass', () => {
  it.each(Object.keys(receivers) as (keyof typeof receivers)[])(
    '%s with a parsed or missing body: a TypeError naming the raw bytes and how to get them',
    async (name) => {
      const url = await receivers[name]();
      const answer = (await send(`${url}/hooks`, { method: 'POST', headers: signed(), body: BODY })).json();
      expect(answer).toMatchObject({ thrown: 'TypeError' });
      const { message } = answer as { message: string };
      expect(message).toMatch(/^verifyWebhook: rawBody must be the request body exactly as received/);
      expect(message).toContain(name === 'koa' ? 'got undefined' : 'got an object');
      expect(message).toContain("express.raw({ type: 'application/json' })");
      expect(message).toContain("parseAs: 'buffer'");
      expect(message).toContain('ctx.req');
    },
  );

  it('the raw bytes as a Buffer, a string, a Uint8Array or an ArrayBuffer all verify', () => {
    const headers = signed();
    const bytes = Buffer.from(BODY);
    for (const raw of [
      bytes,
      BODY,
      new Uint8Array(bytes),
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    ]) {
      expect(verifyWebhook(raw, headers, SECRET)).toEqual({ ok: true, scheme: 'standard-webhooks' });
    }
  });

  it('Fetch Headers (Request.headers) verify like a plain object', () => {
    expect(verifyWebhook(BODY, new Headers(signed()), SECRET)).toEqual({
      ok: true,
      scheme: 'standard-webhooks',
    });
  });

  it.each([
    [
      'undefined headers',
      () => verifyWebhook(BODY, undefined as never, SECRET),
      /headers must be the request's headers/,
    ],
    [
      'a string for headers',
      () => verifyWebhook(BODY, 'x' as never, SECRET),
      /headers must be the request's headers/,
    ],
    [
      'an unset secret',
      () => verifyWebhook(BODY, signed(), process.env.NO_SUCH_SECRET as string),
      /secret is missing/,
    ],
    ['an empty secret', () => verifyWebhook(BODY, signed(), ''), /secret is missing/],
    ['a number body', () => verifyWebhook(42 as never, signed(), SECRET), /got a number/],
  ])('%s: a TypeError that says what to pass', (_, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });
});

describe('verifyWebhook never fails open and takes every form a framework gives', () => {
  const key = signingKey(SECRET);
  const yearAgo = Math.floor(Date.now() / 1000) - 365 * 86_400;
  /** Signed a year ago: a replay every valid tolerance refuses. */
  const replay = signatureHeaders(BODY, key, 'msg_1', yearAgo);

  it.each([
    [
      'toleranceSeconds NaN (Number of an unset variable)',
      { toleranceSeconds: Number.NaN },
      /toleranceSeconds/,
    ],
    ['toleranceSeconds as text', { toleranceSeconds: '300' as never }, /toleranceSeconds/],
    ['toleranceSeconds null', { toleranceSeconds: null as never }, /toleranceSeconds/],
    ['toleranceSeconds negative', { toleranceSeconds: -1 }, /toleranceSeconds/],
    ['toleranceSeconds Infinity', { toleranceSeconds: Number.POSITIVE_INFINITY }, /toleranceSeconds/],
    ['now NaN', { now: Number.NaN }, /now must be/],
    ['now as text', { now: 'x' as never }, /now must be/],
    ['options null', null as never, /options must be an object/],
  ])('%s: a TypeError, never a replay accepted', (_, options, message) => {
    const call = () => verifyWebhook(BODY, replay, SECRET, options);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });

  it('a stream (the request itself) is named as a stream, not as a parsed body', () => {
    const call = () => verifyWebhook(Readable.from([BODY]) as never, signed(), SECRET);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(/a stream, not yet read/);
  });

  it('a DataView, a SharedArrayBuffer and a Buffer secret verify', () => {
    const bytes = Buffer.from(BODY);
    const shared = new SharedArrayBuffer(bytes.length);
    new Uint8Array(shared).set(bytes);
    for (const raw of [new DataView(bytes.buffer, bytes.byteOffset, bytes.length), shared]) {
      expect(verifyWebhook(raw, signed(), SECRET)).toEqual({ ok: true, scheme: 'standard-webhooks' });
    }
    expect(verifyWebhook(BODY, signed(), Buffer.from(SECRET))).toEqual({
      ok: true,
      scheme: 'standard-webhooks',
    });
  });

  it('Title-Case names (AWS Lambda), a Map and req.rawHeaders verify', () => {
    const headers = signed();
    const titled = Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [
        name.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase()),
        value,
      ]),
    );
    expect(titled['Webhook-Signature']).toBeDefined();
    for (const form of [titled, new Map(Object.entries(headers)), Object.entries(titled).flat()]) {
      expect(verifyWebhook(BODY, form as never, SECRET)).toEqual({ ok: true, scheme: 'standard-webhooks' });
    }
  });

  it('a numeric timestamp is read as its digits; a signature that is not text is a TypeError naming it', () => {
    const headers = signed();
    const numeric = {
      ...headers,
      'webhook-timestamp': Number((headers as Record<string, string>)['webhook-timestamp']),
    };
    expect(verifyWebhook(BODY, numeric, SECRET)).toEqual({ ok: true, scheme: 'standard-webhooks' });
    const call = () => verifyWebhook(BODY, { ...headers, 'webhook-signature': { v1: 'x' } } as never, SECRET);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(/webhook-signature header must be text/);
    const numberSignature = () => verifyWebhook(BODY, { ...headers, 'webhook-signature': 5 }, SECRET);
    expect(numberSignature()).toEqual({ ok: false, reason: 'signature mismatch' });
  });
});
