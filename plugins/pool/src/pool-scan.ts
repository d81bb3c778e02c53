import type { Pool } from 'undici';

/** Whether a request dispatched on a pool now would find a connection. */
export type PoolNow =
  /** The client undici hands it to has a connection: it goes out at once, and no connection is opened. */
  | 'free'
  /** None is free, but a connection has just finished a request: undici hands it out again one turn later. */
  | 'cooling'
  /** None is free nor about to be: the request opens a connection or waits in the queue. */
  | 'busy';

/** undici's keys for a pool's client list and queue length, and for a client's state. */
interface Keys {
  clients: symbol;
  queued: symbol;
  needDrain: symbol;
  running: symbol;
  pending: symbol;
  connected: symbol;
}

type Indexed = Record<symbol, unknown>;

/** undefined: not looked up yet (no client to look at); null: this undici has not got them. */
let keys: Keys | null | undefined;

/**
 * Reads a pool's state in one pass over its clients that stops at the client undici would pick. `pool.stats` answers
 * the same questions, but it builds a PoolStats whose six getters each walk every client: measured at 4 µs a
 * dispatch with 32 connections and 10 µs with 256. undici keeps the list and each client's state under
 * symbols of its own; they are found once by description on live objects, and with an undici that has not got
 * them, `pool.stats` answers instead.
 */
export function poolNow(pool: Pool): PoolNow {
  const k = keys === undefined ? lookUp(pool) : keys;
  const clients = k ? ((pool as unknown as Indexed)[k.clients] as Indexed[] | undefined) : undefined;
  // No keys, or a pool of another copy of undici than the one they were found on: ask pool.stats.
  if (!k || !Array.isArray(clients)) {
    const s = pool.stats;
    // (pool.stats cannot tell whether the client undici picks is one with a connection; most often it is.)
    if (s.free > 0) return 'free';
    return s.connected > s.running ? 'cooling' : 'busy';
  }
  let cooling = false;
  // undici hands a request to the first client that takes requests; when that one has no connection, it opens one.
  let passed = false;
  for (let i = 0; i < clients.length; i++) {
    const c = clients[i]!;
    if (!c[k.needDrain]) {
      if (!passed && c[k.connected]) return 'free';
      passed = true;
    } else if (!cooling && c[k.running] === 0 && c[k.pending] === 0 && c[k.connected]) cooling = true;
  }
  return cooling ? 'cooling' : 'busy';
}

/** Whether the pool is read through undici's own keys (false: not looked up yet, or `pool.stats` instead). */
export function readsUndiciKeys(): boolean {
  return keys != null;
}

/** Requests waiting in the pool's queue for a connection. */
export function queuedOn(pool: Pool): number {
  const k = keys === undefined ? lookUp(pool) : keys;
  const queued = k ? (pool as unknown as Indexed)[k.queued] : undefined;
  return typeof queued === 'number' ? queued : pool.stats.queued;
}

function lookUp(pool: Pool): Keys | null | undefined {
  const clients = symbolOf(pool, 'clients');
  const queued = symbolOf(pool, 'queued');
  const list = clients && (pool as unknown as Indexed)[clients];
  if (!clients || !queued || !Array.isArray(list)) {
    keys = null;
    return keys;
  }
  const client = list[0] as object | undefined;
  if (client === undefined) return undefined; // ask again once the pool has a client
  const needDrain = symbolOf(client, 'need drain');
  const running = symbolOf(client, 'running');
  const pending = symbolOf(client, 'pending');
  const connected = symbolOf(client, 'connected');
  const c = client as Indexed;
  const usable =
    needDrain !== undefined &&
    running !== undefined &&
    pending !== undefined &&
    connected !== undefined &&
    typeof c[connected] === 'boolean' &&
    typeof (pool as unknown as Indexed)[queued] === 'number' &&
    typeof c[running] === 'number' &&
    typeof c[pending] === 'number' &&
    ['number', 'boolean'].includes(typeof c[needDrain]);
  keys = usable ? { clients, queued, needDrain, running, pending, connected } : null;
  return keys;
}

/** The symbol with this description among the own keys of `obj` and its prototypes. */
function symbolOf(obj: object, description: string): symbol | undefined {
  for (
    let o: object | null = obj;
    o !== null && o !== Object.prototype;
    o = Object.getPrototypeOf(o) as object | null
  ) {
    for (const s of Object.getOwnPropertySymbols(o)) if (s.description === description) return s;
  }
  return undefined;
}
