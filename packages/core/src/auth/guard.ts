import type { CoreRequest } from '../http.js';

/** Who a request authenticated as: a fingerprint of the credential, never the credential. */
export interface Principal {
  credentialId: string;
}

/**
 * Decides whether a request carries an accepted credential. Every auth method is one Guard, so
 * the request handler never needs to know which method is configured.
 */
export interface Guard {
  /** Resolves to the principal, or `null` to refuse with 401. Must not throw for bad input. */
  authenticate(request: CoreRequest): Principal | null | Promise<Principal | null>;
  /** `WWW-Authenticate` value for 401 answers, when the method has one. */
  readonly challenge?: string;
}
