import { z } from 'zod';
import { type BasicUser, basicCredentialId } from '../auth/basic.js';
import { type Credential, credentialDigest, credentialIdOf } from '../auth/credentials.js';
import { type AuthOptions, list } from '../auth/options.js';
import { reviewCredentials } from '../auth/review.js';
import type { WebhookInspector } from './activity.js';

/** The status page's own credential: never the one HiWelink uses. */
export type StatusAuth =
  /**
   * A token: `Authorization: Bearer <token>` (the CLI, curl), or, in a browser, the password of
   * the sign-in prompt (any user name). At least 16 characters; `npx hiwelink keygen` makes one.
   */
  | { bearer: Credential }
  /** A user and password for the browser's sign-in prompt (`Authorization: Basic`). */
  | { basic: BasicUser };

export interface StatusOptions {
  /**
   * Where the page is served, after `basePath`, e.g. `'/hiwelink/status'`. GET and HEAD show it
   * (HTML when the client accepts `text/html`, else JSON); POST runs its actions.
   */
  path: string;
  /**
   * Its own credential. Required: the page is never open, and a credential that is missing,
   * blank, shorter than 16 characters or equal to one HiWelink uses stops the start.
   */
  auth: StatusAuth;
  /**
   * The emitter whose activity the page shows and whose resend, test event and full-sync actions
   * it offers: `createWebhookEmitter()` or `createDurableWebhookEmitter()`. Without it the page
   * shows crawls and set-up only.
   */
  webhooks?: WebhookInspector;
}

/** The status page's options once checked. */
export interface ResolvedStatus {
  /** With `basePath` applied. */
  path: string;
  auth: StatusAuth;
  webhooks: WebhookInspector | undefined;
  /** Raw secrets the page and its JSON must never show, whatever text they turn up in. */
  secrets: string[];
  /** Fingerprints of HiWelink's configured credentials, as the access log names them (none for JWT). */
  fingerprints: string[];
}

const inspector = z.custom<WebhookInspector>(
  (value) =>
    typeof (value as WebhookInspector | null)?.activity === 'function' &&
    typeof (value as WebhookInspector).resend === 'function',
  'must be a webhook emitter from createWebhookEmitter() or createDurableWebhookEmitter() (it needs activity() and resend())',
);

const required = (what: string) =>
  z.string({
    error: (issue) =>
      issue.input === undefined
        ? `is required: the status page is never open; set it to ${what}`
        : 'must be a string',
  });

export const statusSchema = z.strictObject({
  path: z
    .string({ error: "is required: where to serve the page, e.g. '/hiwelink/status'" })
    .regex(/^\/[^?#\s]*$/, "must start with '/' and hold no '?', '#' or spaces, e.g. '/hiwelink/status'"),
  auth: z.union(
    [
      z.strictObject({ bearer: required('a token of its own, e.g. process.env.STATUS_TOKEN') }),
      z.strictObject({
        basic: z.strictObject({
          username: z
            .string()
            .min(1, 'must not be empty')
            .regex(/^[^:]*$/, 'must not contain a colon (RFC 7617)'),
          password: required('a password of its own'),
        }),
      }),
    ],
    {
      error: (issue) => {
        const given = issue.input as { bearer?: unknown } | undefined;
        if (given === undefined)
          return 'is required: the status page is never open; e.g. { bearer: process.env.STATUS_TOKEN }';
        if (typeof given === 'object' && given !== null && 'bearer' in given && given.bearer === undefined)
          return 'bearer is undefined (an unset environment variable?): the status page is never open; set a token of its own, e.g. STATUS_TOKEN from npx hiwelink keygen';
        return 'must be { bearer: token } or { basic: { username, password } }';
      },
    },
  ),
  webhooks: inspector.optional(),
});

/** Every raw secret the HiWelink side is configured with, to tell the page's own apart and to hide. */
function apiSecrets(auth: AuthOptions): string[] {
  if ('apiKey' in auth) return list(auth.apiKey);
  if ('bearer' in auth) return list(auth.bearer);
  if ('basic' in auth) return list(auth.basic).map((user) => user.password);
  if ('jwt' in auth && auth.jwt.secret !== undefined) return [auth.jwt.secret];
  return [];
}

/** The `credentialId` each configured credential gets when a request presents it (see the guards). */
function fingerprintsOf(auth: AuthOptions): string[] {
  if ('apiKey' in auth) return list(auth.apiKey).map(credentialIdOf);
  if ('bearer' in auth) return list(auth.bearer).map(credentialIdOf);
  if ('basic' in auth) return list(auth.basic).map(basicCredentialId);
  return [];
}

/**
 * Checks the status page's credential the way the API's are checked (surrounding whitespace
 * trimmed from a token, too short or unsendable refused), and refuses one HiWelink also uses:
 * whoever reads the page could then crawl the store, and the reverse. Problems go to `problems`.
 */
export function resolveStatus(
  status: z.infer<typeof statusSchema>,
  apiAuth: AuthOptions,
  basePath: string,
  problems: string[],
): { status: ResolvedStatus; warnings: string[] } {
  const given = status.auth as StatusAuth;
  const review = reviewCredentials('bearer' in given ? given : { basic: given.basic }, undefined, 'refuse');
  const label = (line: string) => line.replace(/^auth\./, 'status.auth.').replace('basic.0', 'basic');
  problems.push(...review.problems.map(label));
  const auth: StatusAuth =
    'bearer' in review.auth
      ? { bearer: review.auth.bearer as string }
      : { basic: (review.auth as { basic: BasicUser }).basic };
  const own = 'bearer' in auth ? auth.bearer : auth.basic.password;
  const theirs = apiSecrets(apiAuth).map((secret) => credentialDigest(secret.trim()).toString('hex'));
  if (theirs.includes(credentialDigest(own).toString('hex'))) {
    problems.push(
      'status.auth: must not be a credential HiWelink uses (auth): give the status page its own, e.g. from npx hiwelink keygen',
    );
  }
  const secrets = [own, ...apiSecrets(apiAuth)]
    .map((secret) => secret.trim())
    .filter((secret) => secret.length >= 4 && !/^sha256:/i.test(secret));
  return {
    status: {
      path: basePath + status.path,
      auth,
      webhooks: status.webhooks,
      secrets,
      fingerprints: fingerprintsOf(apiAuth),
    },
    warnings: review.warnings.map(label),
  };
}
