#!/usr/bin/env node
// The `hiwelink` command. This file is committed, not built, so that npm links the command when it
// installs the workspace, before dist/ exists; the repository's `prepare` script then builds it.
import { existsSync } from 'node:fs';

const main = new URL('../dist/bin.js', import.meta.url);
if (existsSync(main)) await import(main.href);
else {
  console.error('hiwelink: not built yet: run `npm run build` at the root of the repository');
  process.exitCode = 1;
}
