// What every benchmark script shares: its error type, child processes (each server or receiver
// runs in its own, so that no event loop or RSS leaks from one measurement into another) and the
// markdown tables they print.

import { fork } from 'node:child_process';

/** A benchmark that cannot mean anything (a wrong answer, a child that died): the run stops. */
export class BenchError extends Error {}

const children = new Set();

/** Forks `script` with an IPC channel; the child's stderr shows, its stdout does not. */
export function forkChild(script, args, execArgv = process.execArgv) {
  const child = fork(script, args, { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * The child's next message of `type` (sent after `request`, if given). A `failed` message, the
 * child's exit or `timeoutMs` without an answer reject with a BenchError naming `what`.
 */
export function ask(child, type, what, timeoutMs, request) {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const timer = setTimeout(() => {
      done();
      reject(new BenchError(`${what}: no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onExit = (code, signal) => {
      done();
      reject(new BenchError(`${what}: exited (code ${code}, signal ${signal})`));
    };
    const onMessage = (message) => {
      if (message?.type === 'failed') {
        done();
        reject(new BenchError(`${what} failed:\n${message.error}`));
      } else if (message?.type === type) {
        done();
        resolve(message);
      }
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (request) child.send(request);
  });
}

/** Lets a child exit on its own, so that `node --cpu-prof` can write its profile; kills it after 3 s. */
export function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill(), 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.disconnect();
    else child.kill();
  });
}

/** Stops every child forked here. */
export const stopChildren = () => Promise.all([...children].map(stopChild));

/** For process exit and Ctrl-C: no child may outlive the run. */
export function killChildren() {
  for (const child of children) child.kill();
}

/** A markdown table; `right[column]` aligns that column to the right. */
export function markdownTable(header, cells, right = []) {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((line) => line[column].length)),
  );
  const line = (values) =>
    `| ${values.map((value, column) => (right[column] ? value.padStart(widths[column]) : value.padEnd(widths[column]))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (right[column] ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}

/** The rows of the crawl and webhook benchmarks: what was measured, the result, the target. */
export const targetTable = (rows) =>
  markdownTable(
    ['measurement', 'result', 'target', 'met'],
    rows.map((row) => [
      row.measurement,
      row.result,
      row.target,
      row.met === null ? '–' : row.met ? 'yes' : 'no',
    ]),
  );
