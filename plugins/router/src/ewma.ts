/**
 * Latency estimators. Both decay with time rather than per sample, so that an estimate means the same at
 * 1 and at 1000 calls per second, and both fade toward zero while a deployment gets no traffic: an idle
 * deployment looks cheap again, gets a call, and so a provider that recovered earns its traffic back.
 */

const LN2 = Math.LN2;

/**
 * EWMA with a per-sample weight `alpha`, where what was known before also fades with the time since the
 * last sample (half-life `halfLifeMs`): after a long pause, the first new sample counts almost fully.
 */
export class DecayingEwma {
  private value = 0;
  private at = 0;
  private seen = false;

  constructor(
    private readonly alpha: number,
    private readonly halfLifeMs: number,
  ) {}

  record(sample: number, now: number): void {
    if (!this.seen) {
      this.value = sample;
      this.seen = true;
    } else {
      const keep = (1 - this.alpha) * Math.exp((-(now - this.at) * LN2) / this.halfLifeMs);
      this.value = keep * this.value + (1 - keep) * sample;
    }
    this.at = now;
  }

  /** The estimate at `now`, decayed toward 0 by the idle time; undefined before the first sample. */
  read(now: number): number | undefined {
    if (!this.seen) return undefined;
    const idle = now - this.at;
    return idle <= 0 ? this.value : this.value * Math.exp((-idle * LN2) / this.halfLifeMs);
  }
}

/**
 * Peak EWMA (Finagle, Linkerd): a sample above the estimate replaces it at once (react to a slowdown
 * immediately); lower samples pull it down with time constant `decayMs` (recover gradually).
 */
export class PeakEwma {
  private value = 0;
  private at = 0;
  private seen = false;

  constructor(private readonly decayMs: number) {}

  record(sample: number, now: number): void {
    if (!this.seen || sample > this.value) {
      this.value = sample;
      this.seen = true;
    } else {
      const w = Math.exp(-(now - this.at) / this.decayMs);
      this.value = this.value * w + sample * (1 - w);
    }
    this.at = now;
  }

  read(now: number): number | undefined {
    if (!this.seen) return undefined;
    const idle = now - this.at;
    return idle <= 0 ? this.value : this.value * Math.exp(-idle / this.decayMs);
  }
}
