// A small push → async-iterate queue for server-streaming handlers, with envd's keepalive:
// when no event was pushed for `keepaliveMs`, a keepalive message is emitted (the timer is
// re-armed on every pushed event, like envd's ticker reset).

export const DEFAULT_KEEPALIVE_SECONDS = 90;

/** envd's parsing of the `Keepalive-Ping-Interval` request header: whole seconds > 0, else 90. */
export function keepaliveMsFromHeaders(headers) {
  const raw = headers.get('keepalive-ping-interval');
  const seconds = raw != null && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  const valid = Number.isSafeInteger(seconds) && seconds > 0;
  return (valid ? seconds : DEFAULT_KEEPALIVE_SECONDS) * 1000;
}

export class EventStream {
  /**
   * @param {object} o
   * @param {AbortSignal} [o.signal]  ends the iteration when aborted (client gone, deadline)
   * @param {number} [o.keepaliveMs]  0 disables keepalives
   * @param {() => any} [o.keepalive] builds one keepalive message
   */
  constructor({ signal, keepaliveMs = 0, keepalive } = {}) {
    this.items = [];
    this.waiter = null;
    this.done = false;
    this.error = null;
    this.keepaliveMs = keepaliveMs;
    this.makeKeepalive = keepalive;
    this.timer = null;
    this.signal = signal;
    this.onAbort = () => this.end();
    if (signal) {
      if (signal.aborted) this.done = true;
      else signal.addEventListener('abort', this.onAbort, { once: true });
    }
    this.armKeepalive();
  }

  armKeepalive() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.done || !this.keepaliveMs || !this.makeKeepalive) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.enqueue(this.makeKeepalive());
      this.armKeepalive();
    }, this.keepaliveMs);
    this.timer.unref?.();
  }

  enqueue(item) {
    if (this.done) return;
    this.items.push(item);
    this.wake();
  }

  /** Queues an event and re-arms the keepalive timer. */
  push(item) {
    this.enqueue(item);
    this.armKeepalive();
  }

  end() {
    if (this.done) return;
    this.done = true;
    this.cleanup();
    this.wake();
  }

  fail(error) {
    if (this.done) return;
    this.error = error;
    this.end();
  }

  cleanup() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  wake() {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  async *[Symbol.asyncIterator]() {
    try {
      for (;;) {
        if (this.items.length > 0) {
          yield this.items.shift();
          continue;
        }
        if (this.done) break;
        await new Promise((resolve) => {
          this.waiter = resolve;
        });
      }
      if (this.error) throw this.error;
    } finally {
      this.done = true;
      this.cleanup();
    }
  }
}
