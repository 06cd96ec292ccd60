/** The longest text the status page keeps or shows, in characters: a record id, a log line, a cause. */
export const TEXT_CHARS = 1000;

// A run of address characters, then `@`, then a domain. The lookbehind lets a match start only
// where such a run starts: without it each position of a long run is tried, quadratic in its length.
const EMAIL = /(?<![^\s@<>"'(),;:])[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+\.[A-Za-z]{2,}/g;

/**
 * What every text the status page keeps or shows goes through: the configured secrets replaced
 * by `[secret]`, email addresses by `[email]`, then cut to `TEXT_CHARS` with `…`. Cleaned before
 * it is cut, so a cut never leaves the start of a secret. Linear in the text's length.
 */
export function redactor(secrets: readonly string[]): (text: string) => string {
  return (text) => {
    let clean = text;
    for (const secret of secrets) clean = clean.split(secret).join('[secret]');
    clean = clean.replace(EMAIL, '[email]');
    return clean.length > TEXT_CHARS ? `${clean.slice(0, TEXT_CHARS - 1)}…` : clean;
  };
}
