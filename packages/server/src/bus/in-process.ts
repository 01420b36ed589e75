import type { Bus, BusMessage } from './bus.ts';

/**
 * The embedded bus: one process, delivery on a later tick. With `faults` > 0 it drops, delays and
 * reorders that fraction of durable events, so the suite proves clients heal from an at-most-once
 * bus (Redis pub/sub loses messages during reconnects). Control messages are never faulted.
 */
export class InProcessBus implements Bus {
  private readonly handlers: ((msg: BusMessage) => void)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  stats = { published: 0, dropped: 0, delayed: 0 };

  constructor(
    private readonly faults = 0,
    private readonly random: () => number = Math.random,
  ) {}

  publish(msg: BusMessage): void {
    this.stats.published++;
    const durable = msg.t === 'conv' || msg.t === 'user';
    if (durable && this.faults > 0) {
      const r = this.random();
      if (r < this.faults / 2) {
        this.stats.dropped++;
        return;
      }
      if (r < this.faults) {
        this.stats.delayed++;
        const timer = setTimeout(
          () => {
            this.timers.delete(timer);
            this.deliver(msg);
          },
          20 + Math.floor(this.random() * 200),
        );
        this.timers.add(timer);
        return;
      }
    }
    setImmediate(() => this.deliver(msg));
  }

  private deliver(msg: BusMessage) {
    for (const h of this.handlers) h(msg);
  }

  subscribe(handler: (msg: BusMessage) => void): void {
    this.handlers.push(handler);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
