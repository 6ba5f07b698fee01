import { Logger } from '@nestjs/common';

/**
 * Runs `work` every `intervalMs`, never two runs at once, and waits for the running one on stop so
 * shutdown does not cut a sweep or a recovery in half. A failed run is logged and tried next time.
 * `work` gets a signal that aborts on stop: a long run (a pruning backlog) ends at its next step.
 */
export class PeriodicTask {
  private readonly logger: Logger;
  private readonly stopping = new AbortController();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly work: (stopping: AbortSignal) => Promise<string | undefined>,
  ) {
    this.logger = new Logger(name);
  }

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.running;
  }

  /** One run now (unless one is already running); resolves when it ends. */
  runOnce(): Promise<void> {
    this.running ??= this.work(this.stopping.signal)
      .then((summary) => {
        if (summary) this.logger.log(summary);
      })
      .catch((err: Error) => this.logger.warn(`${this.name} failed, next try in ${this.intervalMs} ms: ${err.message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
