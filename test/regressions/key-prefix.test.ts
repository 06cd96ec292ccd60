import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keygen } from '@hiwelink/core';
import { describe, expect, it } from 'vitest';
import { repo } from '../support/readme.js';

// One prefix for every generated key: what `hiwelink keygen` prints, what the demo store and a new
// store generate, and what the READMEs show, so a key found in a log says where it came from.

const PREFIX = keygen().key.replace(/[0-9a-f]{64}$/, '');

describe('key prefix', () => {
  it('is hwk_live_ for keygen', () => {
    expect(PREFIX).toBe('hwk_live_');
  });

  it('is the only *_live_ prefix in the tracked docs, examples and templates', () => {
    const files = execFileSync(
      'git',
      ['ls-files', '*.md', 'examples', 'packages/cli/templates', 'packages/*/src'],
      {
        cwd: repo,
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter((file) => file !== '' && !file.endsWith('.test.ts'));
    const others = files.flatMap((file) =>
      [...readFileSync(join(repo, file), 'utf8').matchAll(/\b([a-z]+_live_)/g)]
        .map((match) => match[1])
        .filter((prefix) => prefix !== PREFIX)
        .map((prefix) => `${file}: ${prefix}`),
    );
    expect(others).toEqual([]);
  });
});
