import { describe, expect, it } from 'vitest';
import { createHiwelink } from './handler.js';
import type { CoreRequest } from './http.js';

const KEY = 'sk_test_handler_0123456789abcdef';

const request = (signal: AbortSignal): CoreRequest => ({
  method: 'GET',
  path: '/api/products',
  query: '',
  headers: { 'x-api-key': KEY },
  remoteAddress: '127.0.0.1',
  secure: false,
  signal,
});

/** A kit whose products callback notes whether its signal was already aborted. */
function recordingKit() {
  const seen: { aborted?: boolean } = {};
  const kit = createHiwelink({
    products: ({ signal }) => {
      seen.aborted = signal.aborted;
      return { items: [], total: 0 };
    },
    orders: () => ({ items: [], total: 0 }),
    auth: { apiKey: KEY },
  });
  return { kit, seen };
}

describe('the signal a callback gets', () => {
  it('is already aborted when the client left before the callback ran', async () => {
    const { kit, seen } = recordingKit();
    await kit.handle(request(AbortSignal.abort(new Error('client closed the connection'))));
    expect(seen.aborted).toBe(true);
  });

  it('is live while the client waits', () => {
    const { kit, seen } = recordingKit();
    let status: number | undefined;
    const pending = kit.respond(request(new AbortController().signal), (answer) => {
      status = answer.status;
    });
    expect(pending).toBeUndefined();
    expect(status).toBe(200);
    expect(seen.aborted).toBe(false);
  });
});
