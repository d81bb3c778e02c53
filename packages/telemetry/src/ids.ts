import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace';

const BYTES = 4096;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

/**
 * Trace and span ids cut from a block of random bytes, hex-encoded 4 KiB at a time. The SDK's own
 * generator writes Math.random() words into a buffer and hex-encodes it for every id; this one does that
 * work once per 128 span ids, and its bytes come from the crypto RNG. An id of all zeros (invalid in
 * W3C Trace Context) is skipped.
 */
export class BufferedIdGenerator implements IdGenerator {
  private readonly bytes = Buffer.allocUnsafe(BYTES);
  private hex = '';
  private at = 0;

  /** `fill` fills a buffer with random bytes (tests pass their own). */
  constructor(private readonly fill: (buffer: Buffer) => void = randomFillSync) {}

  generateTraceId(): string {
    let id = this.take(32);
    while (id === INVALID_TRACE_ID) id = this.take(32);
    return id;
  }

  generateSpanId(): string {
    let id = this.take(16);
    while (id === INVALID_SPAN_ID) id = this.take(16);
    return id;
  }

  private take(chars: number): string {
    if (this.at + chars > this.hex.length) {
      this.fill(this.bytes);
      this.hex = this.bytes.toString('hex');
      this.at = 0;
    }
    const id = this.hex.slice(this.at, this.at + chars);
    this.at += chars;
    return id;
  }
}
