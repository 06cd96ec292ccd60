import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HiwelinkOptions } from '@hiwelink/core';
import { hiwelink as expressHiwelink } from '@hiwelink/express';
import { hiwelink as fastifyHiwelink } from '@hiwelink/fastify';
import { hiwelink as koaHiwelink } from '@hiwelink/koa';
import { HiwelinkModule } from '@hiwelink/nestjs';
import { Controller, Get, Header, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express5 from 'express';
import express4 from 'express4';
import fastify5 from 'fastify';
import fastify4 from 'fastify4';
import Koa3 from 'koa';
import Koa2 from 'koa2';

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

function listen(server: Server): Promise<RunningApp> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
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
  nestApp('nestjs (express)', () => new ExpressAdapter()),
  nestApp('nestjs (fastify)', () => new FastifyAdapter()),
];
