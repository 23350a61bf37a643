import { Presets, SingleBar } from "cli-progress";
import type { ReadModel } from "../store/store.ts";

/**
 * A progress bar of a run's delivery, for a person watching a terminal: how many of the
 * accepted leads have left the queue (delivered, or decided otherwise) and an estimate of the
 * time left, read from the store twice a second.
 */
export function deliveryProgress(
  store: Pick<ReadModel, "countByStatus">,
  destination: string,
  total: number,
): { stop(): Promise<void> } {
  const bar = new SingleBar(
    {
      format: "delivering {bar} {value}/{total} leads | {left}",
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  const started = performance.now();
  bar.start(total, 0, { left: "estimating the time left" });
  let reading: Promise<void> | undefined;
  const read = async () => {
    const left = await store.countByStatus({ destination, status: ["queued", "sending"] });
    const done = Math.max(0, total - (left.queued ?? 0) - (left.sending ?? 0));
    bar.update(done, { left: timeLeft(performance.now() - started, done, total) });
  };
  const timer = setInterval(() => {
    // A slow read is not stacked: the next tick waits for it.
    reading ??= read()
      .catch(() => {})
      .finally(() => {
        reading = undefined;
      });
  }, 500);
  return {
    async stop() {
      clearInterval(timer);
      await reading;
      await read().catch(() => {});
      bar.stop();
    },
  };
}

/** "about 2 min left", from the pace so far. */
function timeLeft(elapsedMs: number, done: number, total: number): string {
  if (done >= total) return "done";
  if (done === 0) return "estimating the time left";
  const seconds = Math.ceil(((elapsedMs / done) * (total - done)) / 1000);
  return seconds < 90 ? `about ${seconds} s left` : `about ${Math.round(seconds / 60)} min left`;
}
