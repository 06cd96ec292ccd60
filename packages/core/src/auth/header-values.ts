/**
 * What an HTTP header value can carry, for checking a credential before it is used: one place for
 * the kit's startup checks, its Authorization parsers, `hiwelink verify` and the demo store.
 */

/** RFC 7235 token68: all a bearer token (RFC 6750) or a basic credential may hold. */
export const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** A control character (U+0000–U+001F, U+007F): a line break inside a key, say. No header carries one. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** A character above U+00FF. Header values are bytes (RFC 9110 §5.5): fetch and Node's http refuse it. */
export const BEYOND_LATIN1 = /[\u0100-\u{10ffff}]/u;
