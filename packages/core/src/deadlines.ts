/**
 * Long call deadlines (the server's default is ten minutes) on one shared coarse timer instead of a
 * setTimeout + clearTimeout per call. Entries of one timeout length join that length's list in
 * deadline order, leave it in O(1), and a tick every TICK_MS fires the ones due: at most TICK_MS
 * late, which for a deadline of COARSE_MIN_MS or more is within 0.25% of it. Shorter deadlines keep
 * a precise setTimeout of their own.
 */

/** Deadlines at least this long (and within what setTimeout takes) go on the shared timer. */
export const COARSE_MIN_MS = 40_000;
export const COARSE_MAX_MS = 2 ** 31 - 1;
const TICK_MS = 100;

/** What the list needs of a call: its due time, its links, and what to do when it is due. */
export interface DeadlineEntry {
  dueAt: number;
  deadlinePrev: DeadlineEntry | undefined;
  deadlineNext: DeadlineEntry | undefined;
  deadlineList: DeadlineList | undefined;
  expire(): void;
}

export class DeadlineList {
  head: DeadlineEntry | undefined;
  tail: DeadlineEntry | undefined;
  constructor(readonly ms: number) {}
}

/** One list per timeout length: within a list, later joins are due later, so the head is due first. */
const lists = new Map<number, DeadlineList>();
let ticker: NodeJS.Timeout | undefined;
/**
 * Entries scheduled: the ticker keeps the process alive (as a call's own timer did) while any is. When the last
 * one leaves, the ticker is unref'd rather than cleared, and stops at its next tick if none came back: calls
 * made one after another would otherwise start and clear an interval each.
 */
let pending = 0;

/** Schedules `entry` to expire `ms` from now. */
export function addDeadline(entry: DeadlineEntry, ms: number): void {
  let list = lists.get(ms);
  if (!list) {
    list = new DeadlineList(ms);
    lists.set(ms, list);
  }
  // Date.now() like the call's `deadline`, so that fake clocks in tests move it too.
  entry.dueAt = Date.now() + ms;
  entry.deadlineList = list;
  entry.deadlinePrev = list.tail;
  entry.deadlineNext = undefined;
  if (list.tail) list.tail.deadlineNext = entry;
  else list.head = entry;
  list.tail = entry;
  if (pending++ === 0) {
    if (ticker) ticker.ref();
    else ticker = setInterval(tick, TICK_MS);
  }
}

/** Unschedules `entry` (no-op when it already expired or was removed). */
export function removeDeadline(entry: DeadlineEntry): void {
  const list = entry.deadlineList;
  if (!list) return;
  const { deadlinePrev: prev, deadlineNext: next } = entry;
  if (prev) prev.deadlineNext = next;
  else list.head = next;
  if (next) next.deadlinePrev = prev;
  else list.tail = prev;
  entry.deadlineList = undefined;
  entry.deadlinePrev = undefined;
  entry.deadlineNext = undefined;
  if (list.head === undefined) lists.delete(list.ms);
  if (--pending === 0) ticker?.unref();
}

function tick(): void {
  if (pending === 0) {
    clearInterval(ticker);
    ticker = undefined;
    return;
  }
  const now = Date.now();
  for (const list of lists.values()) {
    let head = list.head;
    while (head && head.dueAt <= now) {
      removeDeadline(head);
      head.expire();
      head = list.head;
    }
  }
}
