/** Progress lines for long steps, on stderr so stdout stays parseable. */
export function progress(message: string): void {
  process.stderr.write(`• ${message}\n`);
}

/** Times a step and reports it when done. */
export async function step<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  process.stderr.write(`• ${label} …`);
  try {
    const result = await run();
    process.stderr.write(` done (${Math.round(performance.now() - started)} ms)\n`);
    return result;
  } catch (e) {
    process.stderr.write(" failed\n");
    throw e;
  }
}
