import { getHeapStatistics } from 'node:v8';
import { type Counter, diag } from '@opentelemetry/api';
import { heapSnapshot } from './heap-snapshot.js';
import { LeakDetector, type LeakEvent, type LeakStatus, type ResolvedLeakOptions } from './leak-detector.js';

/**
 * Runs the leak detector in a live process: feeds it the heap after each major GC, closes a window
 * every `windowMs` (an unref'd timer: it never keeps the process alive), and on a suspected leak
 * counts `flowgate.leak.suspected`, takes the one heap snapshot if asked, and raises the event.
 */
export class LeakWatch {
  private readonly detector: LeakDetector;
  private timer: NodeJS.Timeout | undefined;
  private snapshotTaken = false;
  /** The latest status, for the growth-rate gauge. */
  last: LeakStatus = { windows: [], growthBytes: 0, bytesPerMinute: 0, suspected: false };

  constructor(
    private readonly options: ResolvedLeakOptions,
    private readonly suspected: Counter,
    private readonly outputDir: string,
    private readonly raise: (event: LeakEvent) => void,
  ) {
    this.detector = new LeakDetector(options);
  }

  start(): void {
    this.timer = setInterval(() => {
      this.check().catch((err: unknown) => diag.error('flowgate profiler: leak check failed', err));
    }, this.options.windowMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  addSample = (heapUsedBytes: number): void => {
    this.detector.addSample(heapUsedBytes);
  };

  /** Closes the current window now and evaluates; the timer calls this every `windowMs`. */
  async check(): Promise<LeakStatus> {
    const status = this.detector.closeWindow(Date.now());
    this.last = status;
    if (!status.suspected) return status;
    this.suspected.add(1);
    const heap = getHeapStatistics();
    const event: LeakEvent = {
      at: Date.now(),
      windows: status.windows,
      growthBytes: status.growthBytes,
      bytesPerMinute: status.bytesPerMinute,
      heapUsedBytes: heap.used_heap_size,
      heapLimitBytes: heap.heap_size_limit,
    };
    if (this.options.heapSnapshot && !this.snapshotTaken) {
      // Only one: a snapshot stops the process and a leaking heap only gets bigger.
      this.snapshotTaken = true;
      try {
        event.snapshotPath = await heapSnapshot({ dir: this.outputDir, name: 'leak' });
      } catch (err) {
        diag.error('flowgate profiler: could not write the leak heap snapshot', err);
      }
    }
    this.raise(event);
    return status;
  }
}
