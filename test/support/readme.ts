import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));

/** The repository's README and each package's, as `{ file, text }` (file relative to the root). */
export function readmes(): Array<{ file: string; text: string }> {
  const files = [
    'README.md',
    ...readdirSync(join(repo, 'packages')).map((dir) => `packages/${dir}/README.md`),
  ];
  return files
    .filter((file) => existsSync(join(repo, file)))
    .map((file) => ({ file, text: readFileSync(join(repo, file), 'utf8') }));
}

/** The fenced code blocks of a markdown text in the given languages, with the line each starts on. */
export function codeBlocks(markdown: string, languages: string[]): Array<{ code: string; line: number }> {
  const blocks: Array<{ code: string; line: number }> = [];
  for (const match of markdown.matchAll(/^```([\w-]*)\n([\s\S]*?)^```/gm)) {
    if (!languages.includes(match[1] ?? '')) continue;
    blocks.push({ code: match[2] ?? '', line: markdown.slice(0, match.index).split('\n').length + 1 });
  }
  return blocks;
}

/** The shell commands of a markdown text's ```sh blocks, one a line: continuations joined, comments cut. */
export function shellLines(markdown: string): string[] {
  const lines: string[] = [];
  for (const { code } of codeBlocks(markdown, ['sh', 'bash', 'shell'])) {
    for (const raw of code.replace(/\\\n\s*/g, ' ').split('\n')) {
      const line = raw.replace(/\s+#\s.*$/, '').trim();
      if (line !== '' && !line.startsWith('#')) lines.push(line);
    }
  }
  return lines;
}
