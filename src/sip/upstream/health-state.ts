// Up/down state of one upstream target from consecutive probe results: `downThreshold` failures
// in a row take an up target down, `upThreshold` successes in a row bring a down target back.
// Targets start up, so traffic flows before the first probe completes (a dead target is still
// skipped at once on a connection failure: that fails over to the next target).
export class TargetHealth {
  up = true;
  #ok = 0;
  #fail = 0;

  constructor(
    private upThreshold: number,
    private downThreshold: number,
  ) {}

  /** Records a probe result; returns true when the up/down state changed. */
  record(success: boolean): boolean {
    if (success) {
      this.#fail = 0;
      this.#ok++;
      if (!this.up && this.#ok >= this.upThreshold) {
        this.up = true;
        return true;
      }
      return false;
    }
    this.#ok = 0;
    this.#fail++;
    if (this.up && this.#fail >= this.downThreshold) {
      this.up = false;
      return true;
    }
    return false;
  }
}

/** A probe succeeded when the target answered at all, with anything but an overload/timeout class. */
export function probeSucceeded(status: number): boolean {
  return status >= 200 && status !== 408 && status !== 503 && status !== 504;
}
