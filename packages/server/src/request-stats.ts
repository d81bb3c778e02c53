import type { Meter } from '@opentelemetry/api';
import type { RequestCounts } from './admin.js';

/**
 * Counts answered requests by route and status in plain numbers; OpenTelemetry reads them through
 * observable instruments at collection time, so the hot path records no metric (an SDK counter
 * `add` with attributes per request is measurable).
 */
export class RequestStats {
  /** route -> status -> count (no per-request key building). */
  private readonly series = new Map<string, Map<number, number>>();
  private todayCount = 0;
  private todayByStatus: Record<string, number> = {};
  private totalCount = 0;
  private dayEnds = nextMidnight();
  shed = 0;
  inFlight = 0;

  /** Records one answered request. `model` marks the model-call routes (chat, embeddings). */
  record(route: string, status: number, model: boolean): void {
    let byStatus = this.series.get(route);
    if (!byStatus) {
      byStatus = new Map();
      this.series.set(route, byStatus);
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    if (!model) return;
    const now = Date.now();
    if (now >= this.dayEnds) {
      this.todayCount = 0;
      this.todayByStatus = {};
      this.dayEnds = nextMidnight();
    }
    this.totalCount++;
    this.todayCount++;
    const cls = STATUS_CLASSES[Math.floor(status / 100)] ?? `${Math.floor(status / 100)}xx`;
    this.todayByStatus[cls] = (this.todayByStatus[cls] ?? 0) + 1;
  }

  counts(): RequestCounts {
    if (Date.now() >= this.dayEnds) {
      this.todayCount = 0;
      this.todayByStatus = {};
      this.dayEnds = nextMidnight();
    }
    return {
      today: this.todayCount,
      todayByStatus: { ...this.todayByStatus },
      total: this.totalCount,
      inFlight: this.inFlight,
      shed: this.shed,
    };
  }

  /** `flowgate.server.requests{http.route, http.response.status_code}` and `flowgate.server.active_requests`. */
  observe(meter: Meter): void {
    meter
      .createObservableCounter('flowgate.server.requests', {
        description: 'HTTP requests answered by the gateway server, by route and status',
        unit: '{request}',
      })
      .addCallback((result) => {
        for (const [route, byStatus] of this.series) {
          for (const [status, count] of byStatus) {
            result.observe(count, { 'http.route': route, 'http.response.status_code': status });
          }
        }
      });
    meter
      .createObservableUpDownCounter('flowgate.server.active_requests', {
        description: 'Model calls (chat, embeddings) in flight in this process',
        unit: '{request}',
      })
      .addCallback((result) => result.observe(this.inFlight));
    meter
      .createObservableCounter('flowgate.server.shed', {
        description: 'Model calls refused with 429 by the concurrency limit',
        unit: '{request}',
      })
      .addCallback((result) => result.observe(this.shed));
  }
}

/** `1xx`..`5xx` by `status / 100`, so that counting builds no string per request. */
const STATUS_CLASSES: readonly string[] = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

function nextMidnight(): number {
  const d = new Date();
  d.setHours(24, 0, 0, 0);
  return d.getTime();
}
