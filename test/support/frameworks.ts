import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { HiwelinkOptions } from '@hiwelink/core';
import { hiwelink as expressHiwelink } from '@hiwelink/express';
import { hiwelink as fastifyHiwelink } from '@hiwelink/fastify';
import { createFetchHandler } from '@hiwelink/fetch';
import { hiwelink as koaHiwelink } from '@hiwelink/koa';
import { HiwelinkModule } from '@hiwelink/nestjs';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Controller, Get, Header, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express5 from 'express';
import express4 from 'express4';
import fastify5 from 'fastify';
import fastify4 from 'fastify4';
import { type Context, Hono } from 'hono';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import { afterEach } from 'vitest';

/** A host app on 127.0.0.1 with the kit mounted and one route of its own at `/other`. */
export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

export interface Framework {
  name: string;
  /**
   * Starts a host app; rejects with the kit's configuration error when the options are bad. With a
   * prefix the kit is mounted the framework's own way (Koa has none, so it gets `basePath`).
   */
  start(options: HiwelinkOptions, prefix?: string): Promise<RunningApp>;
}

export const HOST_BODY = 'host app';

/**
 * `framework.start` for the tests of one describe block: the app it started last is closed after
 * each test, and before it starts another. Call it in the describe body (it registers afterEach).
 */
export function startPerTest(framework: Framework): Framework['start'] {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  return async (options, prefix) => {
    await app?.close();
    app = await framework.start(options, prefix);
    return app;
  };
}

/** Resolves once `server` (already told to listen on 127.0.0.1) is listening. */
function listening(server: Server): Promise<RunningApp> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

function listen(server: Server): Promise<RunningApp> {
  server.listen(0, '127.0.0.1');
  return listening(server);
}

function expressApp(name: string, express: typeof express5): Framework {
  return {
    name,
    async start(options, prefix = '/') {
      const app = express();
      app.use(prefix, expressHiwelink(options));
      app.get('/other', (_request, response) => {
        response.type('text').send(HOST_BODY);
      });
      return listen(createServer(app));
    },
  };
}

function koaApp(name: string, Koa: typeof Koa3): Framework {
  return {
    name,
    async start(options, prefix) {
      const app = new Koa();
      app.use(koaHiwelink(prefix ? { ...options, basePath: prefix } : options));
      app.use(async (context) => {
        if (context.path === '/other') context.body = HOST_BODY;
      });
      return listen(createServer(app.callback()));
    },
  };
}

function fastifyApp(name: string, fastify: typeof fastify5): Framework {
  return {
    name,
    async start(options, prefix) {
      const app = fastify();
      app.register(fastifyHiwelink, prefix ? { ...options, prefix } : options);
      app.get('/other', async (_request, reply) => reply.type('text/plain').send(HOST_BODY));
      try {
        await app.listen({ port: 0, host: '127.0.0.1' });
      } catch (error) {
        await app.close();
        throw error;
      }
      const { port } = app.server.address() as AddressInfo;
      return {
        url: `http://127.0.0.1:${port}`,
        close: async () => {
          app.server.closeAllConnections();
          await app.close();
        },
      };
    },
  };
}

/**
 * Hono on @hono/node-server: the handler on each of its paths, or under a prefix with Hono's
 * `mount` (which strips the prefix from the URL it hands on). The peer address comes from Hono's
 * getConnInfo, as the README says.
 */
const hono: Framework = {
  name: 'hono',
  async start(options, prefix) {
    const handler = createFetchHandler({
      ...options,
      clientAddress: (_request, c: Context) => getConnInfo(c).remote.address,
    });
    const app = new Hono();
    app.get('/other', (c) => c.text(HOST_BODY));
    if (prefix) app.mount(prefix, handler, { optionHandler: (c) => c });
    else for (const path of handler.paths) app.all(path, (c) => handler(c.req.raw, c));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    return listening(server);
  },
};

/**
 * The handler called directly with `Request` objects, as Next.js calls a route handler: a bare
 * node:http server (no framework) builds a `Request` from each incoming request (URL from the Host
 * header, every header line, the body as a stream, a signal that aborts when the client leaves),
 * passes the IncomingMessage as the context, and writes the `Response` back. Everything but
 * `/other` goes to the handler, as to a catch-all route; a prefix is `basePath`, as under a
 * Next.js route folder.
 */
const fetchDirect: Framework = {
  name: 'fetch (direct)',
  async start(options, prefix) {
    const handler = createFetchHandler({
      ...options,
      ...(prefix ? { basePath: prefix } : {}),
      clientAddress: (_request, incoming: IncomingMessage) => incoming.socket.remoteAddress,
    });
    const server = createServer(async (incoming, outgoing) => {
      if (incoming.url === '/other') {
        outgoing.writeHead(200, { 'content-type': 'text/plain' }).end(HOST_BODY);
        return;
      }
      const controller = new AbortController();
      outgoing.once('close', () => {
        if (!outgoing.writableFinished) controller.abort(new Error('client closed the connection'));
      });
      const headers = new Headers();
      for (let index = 0; index < incoming.rawHeaders.length; index += 2) {
        headers.append(incoming.rawHeaders[index] ?? '', incoming.rawHeaders[index + 1] ?? '');
      }
      const method = incoming.method ?? 'GET';
      const withBody = method !== 'GET' && method !== 'HEAD';
      const request = new Request(`http://${incoming.headers.host}${incoming.url}`, {
        method,
        headers,
        signal: controller.signal,
        ...(withBody ? { body: Readable.toWeb(incoming) as ReadableStream, duplex: 'half' } : {}),
      });
      const response = await handler(request, incoming);
      outgoing.writeHead(response.status, Object.fromEntries(response.headers));
      outgoing.end(Buffer.from(await response.arrayBuffer()));
    });
    return listen(server);
  },
};

/**
 * The host app's own route, as a Nest controller. Its decorators are called as the functions they
 * are, so the tests need no decorator compiler options.
 */
class OtherController {
  other() {
    return HOST_BODY;
  }
}
const other = Object.getOwnPropertyDescriptor(OtherController.prototype, 'other') as PropertyDescriptor;
Header('content-type', 'text/plain')(OtherController.prototype, 'other', other);
Get('other')(OtherController.prototype, 'other', other);
Controller()(OtherController);

/**
 * A Nest application importing `HiwelinkModule.forRoot(options)`, with a controller of its own;
 * the prefix is Nest's global prefix. Nest's logger is off, and `abortOnError: false` makes a
 * startup error reject instead of ending the process.
 */
function nestApp(name: string, platform: () => ExpressAdapter | FastifyAdapter): Framework {
  return {
    name,
    async start(options, prefix) {
      class AppModule {}
      // The emitter nobody uses here would warn that webhooks are off on every start.
      const kit = HiwelinkModule.forRoot({ ...options, webhooks: { logger: { warn() {}, error() {} } } });
      Module({ imports: [kit], controllers: [OtherController] })(AppModule);
      const app = await NestFactory.create(AppModule, platform(), { logger: false, abortOnError: false });
      if (prefix) app.setGlobalPrefix(prefix, { exclude: ['other'] });
      try {
        await app.listen(0, '127.0.0.1');
      } catch (error) {
        await app.close();
        throw error;
      }
      const server = app.getHttpServer() as Server;
      const { port } = server.address() as AddressInfo;
      return {
        url: `http://127.0.0.1:${port}`,
        close: async () => {
          server.closeAllConnections();
          await app.close();
        },
      };
    },
  };
}

export const frameworks: Framework[] = [
  expressApp('express 4', express4),
  expressApp('express 5', express5),
  fastifyApp('fastify 4', fastify4 as unknown as typeof fastify5),
  fastifyApp('fastify 5', fastify5),
  koaApp('koa 2', Koa2),
  koaApp('koa 3', Koa3),
  hono,
  fetchDirect,
  nestApp('nestjs (express)', () => new ExpressAdapter()),
  nestApp('nestjs (fastify)', () => new FastifyAdapter()),
];
