import type { Exchange } from './exchange.js';
import type { ActiveFault } from './faults.js';
import type { MockStats } from './types.js';

/** A streamed answer, rendered as complete SSE events ready to write. The last event is the terminator. */
export interface StreamPlan {
  events: string[];
  /** Index of the first content event: the ones before it go out with the headers, TTFT applies before it. */
  firstContent: number;
  /** Events in [firstContent, contentEnd) are paced by tokensPerSecond; the rest follow at once. */
  contentEnd: number;
  /** An event with invalid JSON in this protocol's framing (the `malformed-json` fault). */
  malformedEvent: string;
}

export interface Pacing {
  ttftMs: number;
  tokensPerSecond: number;
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
} as const;

/** Bytes that are neither SSE framing nor JSON (the `malformed-sse` fault). */
export const GARBAGE_BODY =
  '<html><body>502 Bad Gateway</body></html>\n\u0000\u0001\u0002 this is not an event stream {{{';

/** Send `plan` on `ex`, paced, applying a stream fault (stall, truncate, malformed-json) if given. */
export function runStream(ex: Exchange, stats: MockStats, plan: StreamPlan, pacing: Pacing, fault?: ActiveFault): void {
  let events = plan.events;
  let contentEnd = plan.contentEnd;
  if (fault?.type === 'malformed-json') {
    const at = Math.min(plan.firstContent + 1, events.length - 1);
    events = [...events.slice(0, at), plan.malformedEvent, ...events.slice(at)];
    if (at <= contentEnd) contentEnd++;
  }
  // Events to send: all of them, or fewer (never the terminator) for stall and truncate.
  const last = events.length - 1;
  let limit = events.length;
  let endEarly = false;
  if (fault?.type === 'stall') {
    limit = Math.max(0, Math.min(fault.afterChunks, last));
  } else if (fault?.type === 'truncate') {
    limit = Math.max(1, Math.min(fault.afterChunks ?? Math.floor(last / 2), last));
    endEarly = true;
  }

  const { res } = ex;
  res.writeHead(200, SSE_HEADERS);
  ex.streaming = true;
  stats.streamsStarted++;

  const { firstContent } = plan;
  const interval = pacing.tokensPerSecond > 0 ? 1000 / pacing.tokensPerSecond : 0;
  // Headers go out at once, unless the whole stream is written in this tick (then they ride with the first event).
  if (pacing.ttftMs > 0 || interval > 0 || limit === 0) res.flushHeaders();
  let i = 0;
  let t0 = 0;

  const write = (): void => {
    res.write(events[i++]);
    stats.chunksSent++;
  };

  const step = (): void => {
    if (ex.closed) return;
    // Events due in the same tick go out in one syscall; each is still its own res.write.
    res.cork();
    while (i < limit) {
      if (interval > 0 && i > firstContent && i < contentEnd) {
        const wait = t0 + (i - firstContent) * interval - performance.now();
        if (wait >= 1) {
          res.uncork();
          ex.schedule(step, wait);
          return;
        }
      }
      if (i === firstContent) t0 = performance.now();
      write();
    }
    res.uncork();
    if (limit === events.length) {
      ex.done = true;
      res.end();
      stats.streamsCompleted++;
    } else if (endEarly) {
      ex.done = true;
      res.end();
    }
    // else: stalled; the socket stays open until the client or the server closes it.
  };

  res.cork();
  while (i < firstContent && i < limit) write();
  if (pacing.ttftMs > 0 && i < limit) {
    res.uncork();
    ex.schedule(step, pacing.ttftMs);
  } else {
    step();
    res.uncork();
  }
}
