import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { newWebhookId, signatureHeaders, signingKey, verifyWebhook } from '@hiwelink/core';

/**
 * The secret to sign or check with: `--secret`, else HIWELINK_WEBHOOK_SECRET (blank there means
 * none). A `--secret` given blank (`--secret "$UNSET"`) is refused: it would silently mean none.
 */
function secretFrom(given: string | undefined): string | undefined {
  if (given !== undefined && given.trim() === '') {
    throw new Error(
      '--secret is empty (an unset variable in --secret "$VAR"?): give the secret, or leave --secret out to skip signatures',
    );
  }
  return given ?? (process.env.HIWELINK_WEBHOOK_SECRET?.trim() || undefined);
}

/**
 * `hiwelink webhooks listen`: a local receiver that prints each event, checks its signature, and
 * answers with the given statuses in turn (e.g. 500 500 200) to rehearse retries.
 */
export async function listen(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: '4242' },
      host: { type: 'string', default: '127.0.0.1' },
      secret: { type: 'string' },
      status: { type: 'string', multiple: true },
    },
  });
  const statuses = (values.status ?? ['200']).map(Number);
  if (statuses.some((status) => !Number.isInteger(status) || status < 200 || status > 599)) {
    throw new Error('--status takes HTTP statuses from 200 to 599');
  }
  const secret = secretFrom(values.secret);
  let received = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const status = statuses[Math.min(received, statuses.length - 1)] as number;
      received += 1;
      let event = '(not JSON)';
      try {
        event = (JSON.parse(raw.toString('utf8')) as { event?: string }).event ?? '(no event)';
      } catch {}
      const check = secret ? verifyWebhook(raw, request.headers, secret) : undefined;
      const signature =
        check === undefined
          ? 'not checked (no --secret)'
          : check.ok
            ? `valid (${check.scheme})`
            : `INVALID: ${check.reason}`;
      console.log(
        `${new Date().toISOString()}  ${request.method} ${request.url}  ${event}  id=${request.headers['webhook-id'] ?? '-'}  signature ${signature}  → ${status}`,
      );
      console.log(`  ${raw.toString('utf8')}`);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ success: status < 300 }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(values.port), values.host, resolve);
  });
  const address = server.address() as { port: number };
  console.log(`Listening for HiWelink webhooks on http://${values.host}:${address.port}`);
  console.log(
    `Point the store at it: HIWELINK_WEBHOOK_URL=http://${values.host}:${address.port} HIWELINK_STORE_TOKEN=local`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  server.close();
  return 0;
}

/** `hiwelink webhooks send <url>`: one signed test event, to check a receiver. */
export async function sendTestEvent(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { secret: { type: 'string' }, event: { type: 'string', default: 'product.updated' } },
  });
  const url = positionals[0];
  if (!url || !/^https?:\/\//.test(url)) throw new Error('webhooks send needs an http(s) URL');
  const body = JSON.stringify({
    event: values.event,
    data: { id: 'hiwelink-test-1', name: 'HiWelink test product', price: 9.99, stock_status: 'in_stock' },
  });
  const secret = secretFrom(values.secret);
  const headers = {
    'content-type': 'application/json',
    ...(secret
      ? signatureHeaders(body, signingKey(secret), newWebhookId(), Math.floor(Date.now() / 1000))
      : {}),
  };
  const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
  console.log(`${response.status} ${response.statusText}${secret ? '' : ' (unsigned: no --secret)'}`);
  console.log(await response.text());
  return response.ok ? 0 : 1;
}
