/** A request as core sees it: what every framework can tell us, nothing framework-specific. */
export interface CoreRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** URL path without the query string, as the host app routed it (mount prefix removed). */
  path: string;
  /** Raw query string without the leading `?`; parsed by core so every framework agrees. */
  query: string;
  /** Header names lower-cased, as Node's `IncomingMessage.headers` has them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * Peer address of the TCP connection (not a forwarded one). A getter may throw (a fetch
   * handler's `clientAddress`): core then answers 500 and logs the failure once, naming it.
   */
  remoteAddress: string | undefined;
  /** Whether the connection itself is TLS. */
  secure: boolean;
  /** Aborts when the client goes away before the answer is sent. */
  signal: AbortSignal;
  /**
   * Which of the kit's paths (`Hiwelink.paths`) the host's router matched, when it routed the
   * request itself (Fastify). Core then serves that endpoint and does not match `path` again, so
   * the host's prefixes and router options (trailing slash, case) hold as for its own routes.
   */
  route?: string | undefined;
}

/** What core answers; adapters write it back unchanged. */
export interface CoreResponse {
  status: number;
  headers: Record<string, string>;
  /** Serialized JSON. Frameworks drop it for HEAD requests. */
  body: string;
}
