// What every HTTP load process shares: a watchdog, so a wedged load cannot hang the bench, and the pool of
// `concurrency` loops that keeps that many requests in flight until the deadline or the request budget.

/** Exits the load process (code 3) if it is still running `seconds` from now. */
export function watchdog(seconds, log) {
  setTimeout(() => {
    log("watchdog: the load did not finish in time, giving up");
    process.exit(3);
  }, seconds * 1000).unref();
}

/**
 * `concurrency` loops calling op(n, loop) — n counts calls across all loops, loop is the loop's index — until the
 * deadline or `maxOps` calls. Returns the seconds it ran.
 */
export async function pool(concurrency, seconds, maxOps, op, progress) {
  const start = performance.now();
  const end = start + seconds * 1000;
  let issued = 0;
  const ticker = setInterval(() => progress((performance.now() - start) / 1000), 5000);
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (performance.now() < end && issued < maxOps) await op(issued++, loop);
    }),
  );
  clearInterval(ticker);
  return (performance.now() - start) / 1000;
}
