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
  /** Peer address of the TCP connection (not a forwarded one). */
  remoteAddress: string | undefined;
  /** Whether the connection itself is TLS. */
  secure: boolean;
  /** Aborts when the client goes away before the answer is sent. */
  signal: AbortSignal;
}

/** What core answers; adapters write it back unchanged. */
export interface CoreResponse {
  status: number;
  headers: Record<string, string>;
  /** Serialized JSON. Frameworks drop it for HEAD requests. */
  body: string;
}
