// Overload detection from event-loop lag. The sampler (an I/O edge: one unref'd interval timer)
// measures how late its own timer fires; the detector (pure) turns samples into a state with
// hysteresis: overloaded at the first sample above the threshold, normal again only after a full
// `holdMs` of samples at or below it, so a borderline load does not flap (nor flood the log).
import { performance } from "node:perf_hooks";

export class OverloadDetector {
  #overloaded = false;
  #calmSince = 0;

  constructor(private thresholdMs: number, private holdMs: number) {}

  get overloaded(): boolean {
    return this.#overloaded;
  }

  /** One sample; returns true when the state changed. */
  observe(lagMs: number, nowMs: number): boolean {
    if (this.thresholdMs <= 0) return this.#set(false);
    if (lagMs > this.thresholdMs) {
      this.#calmSince = 0;
      return this.#set(true);
    }
    if (!this.#overloaded) return false;
    if (this.#calmSince === 0) this.#calmSince = nowMs;
    return nowMs - this.#calmSince >= this.holdMs ? this.#set(false) : false;
  }

  reconfigure(thresholdMs: number, holdMs: number): void {
    this.thresholdMs = thresholdMs;
    this.holdMs = holdMs;
    if (thresholdMs <= 0) this.#set(false);
  }

  #set(v: boolean): boolean {
    if (v === this.#overloaded) return false;
    this.#overloaded = v;
    this.#calmSince = 0;
    return true;
  }
}

/** Measures event-loop lag: how much later than asked its `sampleMs` timer fires. */
export class EventLoopLagSampler {
  #timer: NodeJS.Timeout | undefined;
  #expected = 0;

  constructor(private sampleMs: number, private onSample: (lagMs: number, nowMs: number) => void) {}

  get running(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#expected = performance.now() + this.sampleMs;
    this.#timer = setInterval(() => {
      const now = performance.now();
      const lag = now - this.#expected;
      // Node re-arms an interval from when its callback runs: the next one is due sampleMs from now.
      this.#expected = now + this.sampleMs;
      this.onSample(lag > 0 ? lag : 0, now);
    }, this.sampleMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
