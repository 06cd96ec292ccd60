import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeModuleHint } from '../../examples/express-sqlite/dist/native.js';

// A native module built for another Node.js: the demo's start-up error must say what fixes it.
// Node's own message suggests `npm rebuild`, which rebuilds for the wrong Node again when npm's
// nodedir setting names another Node's headers (as on this machine). The message below is Node's
// own, as better-sqlite3 built on Node 20 fails under Node 24.
const DLOPEN = Object.assign(
  new Error(
    "The module '/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\n" +
      'was compiled against a different Node.js version using\n' +
      'NODE_MODULE_VERSION 115. This version of Node.js requires\n' +
      'NODE_MODULE_VERSION 137. Please try re-compiling or re-installing\n' +
      'the module (for instance, using `npm rebuild` or `npm install`).',
  ),
  { code: 'ERR_DLOPEN_FAILED' },
);

describe('native module built for another Node', () => {
  it('names the rebuild against the running Node and its headers', () => {
    const home = mkdtempSync(join(tmpdir(), 'hiwelink-node-'));
    try {
      mkdirSync(join(home, 'include', 'node'), { recursive: true });
      writeFileSync(join(home, 'include', 'node', 'node.h'), '');
      const hint = nativeModuleHint(DLOPEN, join(home, 'bin', 'node'), 'v24.22.3') ?? '';
      expect(hint).toContain('v24.22.3');
      expect(hint).toContain(
        `PATH="${join(home, 'bin')}:$PATH" npm_config_nodedir="${home}" npm rebuild better-sqlite3`,
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('says where the headers must come from when it cannot find them', () => {
    expect(nativeModuleHint(DLOPEN, '/usr/local/bin/node', 'v24.22.3')).toContain(
      'npm_config_nodedir="<the directory holding include/node of this Node>"',
    );
  });

  it('leaves any other start-up error alone', () => {
    expect(nativeModuleHint(new Error('SEED_ORDERS must be a whole number'))).toBeUndefined();
  });
});
