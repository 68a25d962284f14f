/**
 * Everything a bench run starts is stopped on the way out: normal end, error, SIGINT/SIGTERM.
 * Child processes spawned through test/helpers' track() are also SIGKILLed if this process exits.
 */
const tasks: { what: string; run: () => Promise<unknown> }[] = [];

/** Registers a stop action; they run last-registered first. */
export function onCleanup(what: string, run: () => Promise<unknown>): void {
  tasks.push({ what, run });
}

/** How many stop actions are registered now: cleanup(…, mark) later stops only what came after. */
export function cleanupMark(): number {
  return tasks.length;
}

/** Runs (and forgets) the stop actions registered after `downTo` (all by default), each bounded by timeoutMs. */
export async function cleanup(timeoutMs = 25_000, downTo = 0): Promise<void> {
  while (tasks.length > downTo) {
    const task = tasks.pop()!;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      task.run().catch((err: unknown) => process.stderr.write(`cleanup (${task.what}): ${(err as Error).message}\n`)),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          process.stderr.write(`cleanup (${task.what}): gave up after ${timeoutMs} ms\n`);
          resolve();
        }, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
}

/** Ctrl-C / SIGTERM: stop what was started, then exit 130. A second Ctrl-C exits at once. */
export function installSignalHandlers(): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write(`\n${signal}: stopping everything this run started...\n`);
      void cleanup(5_000).finally(() => process.exit(130));
    });
  }
}

/** Runs main; on any error prints it, cleans up, exits 1. */
export function runMain(main: () => Promise<void>): void {
  installSignalHandlers();
  main()
    .then(async () => {
      await cleanup();
      process.exit(0);
    })
    .catch(async (err: unknown) => {
      process.stderr.write(`\n${(err as Error).stack ?? String(err)}\n`);
      await cleanup();
      process.exit(1);
    });
}
