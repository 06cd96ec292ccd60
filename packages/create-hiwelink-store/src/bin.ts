#!/usr/bin/env node
// `npm create hiwelink-store my-store -- --yes` runs this with `my-store --yes`: the same as
// `hiwelink init my-store --yes`.

/** The init command of the installed @hiwelink/cli, next to its main module. */
async function loadInit(): Promise<(args: string[]) => Promise<number>> {
  const init = new URL('./init.js', import.meta.resolve('@hiwelink/cli'));
  const module = (await import(init.href)) as { runInit: (args: string[]) => Promise<number> };
  return module.runInit;
}

loadInit()
  .then((runInit) => runInit(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`create-hiwelink-store: ${(error as Error).message ?? String(error)}`);
      process.exitCode = 1;
    },
  );
