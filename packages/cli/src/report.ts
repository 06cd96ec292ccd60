import type { VerifyReport } from './verify.js';

const MARK = { ok: 'OK  ', warning: 'WARN', failed: 'FAIL', skipped: 'SKIP' } as const;

/** The summary table `hiwelink verify` prints: one line a check, a fix hint under each that did not pass. */
export function formatReport(report: VerifyReport): string {
  const width = Math.max(...report.checks.map((check) => check.title.length));
  const lines = [`HiWelink verify: ${report.baseUrl}`, ''];
  for (const check of report.checks) {
    lines.push(`  ${MARK[check.status]}  ${check.title.padEnd(width)}  ${check.detail}`);
    if (check.hint && check.status !== 'ok' && check.status !== 'skipped')
      lines.push(`        ${' '.repeat(width)}  → ${check.hint}`);
  }
  const failed = report.checks.filter((check) => check.status === 'failed').length;
  const warnings = report.checks.filter((check) => check.status === 'warning').length;
  lines.push(
    '',
    report.ok
      ? `Ready for HiWelink (${warnings} warning(s)).`
      : `${failed} check(s) failed, ${warnings} warning(s).`,
  );
  return lines.join('\n');
}

/**
 * Rows as aligned columns under a header line, each line indented by two spaces: the terminal's
 * tables. A cell is taken as is (no wrapping); the last column is not padded.
 */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `  ${cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
