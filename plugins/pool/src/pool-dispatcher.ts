import { Agent, type Dispatcher } from 'undici';
import { ConnectScope, type ConnectTracker } from './connect-tracker.js';
import { PoolSaturatedError } from './errors.js';
import type { PoolInstruments } from './metrics.js';
import type { OriginRegistry } from './origin-registry.js';
import type { OriginState } from './origin-state.js';
import { poolNow, queuedOn } from './pool-scan.js';

/**
 * The gateway's dispatcher: an undici Agent whose factory makes one Pool per origin with that origin's
 * options. On top of the Agent it refuses a request when its origin's queue is full, and it makes sure every
 * dispatch runs in a connect scope, so that connection set-ups are attributed to it.
 */
export class PoolDispatcher extends Agent {
  private readonly registry: OriginRegistry;
  private readonly tracker: ConnectTracker;
  private readonly instruments: PoolInstruments;

  constructor(registry: OriginRegistry, tracker: ConnectTracker, instruments: PoolInstruments) {
    super({ factory: registry.factory });
    this.registry = registry;
    this.tracker = tracker;
    this.instruments = instruments;
  }

  override dispatch(options: Agent.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = options.origin;
    const state = this.registry.get(typeof origin === 'string' ? origin : String(origin));
    const scope = this.tracker.scopes.getStore();
    const pool = state.pool;
    // Warm-up requests are never refused nor deferred: each must take a connection of its own.
    if (pool !== undefined && !pool.destroyed && scope?.reason !== 'warm_up') {
      if (state.busy) {
        // No connection is free and none may be added: this request would wait in the queue.
        const queued = queuedOn(pool);
        if (queued >= state.options.maxQueued) return this.refuse(state, queued, handler);
      } else {
        const now = poolNow(pool);
        if (now === 'cooling') {
          // A connection has just finished a request, and undici hands it out again only one event-loop turn
          // later (to see a server that closes it right after its answer). Dispatched now, this request would
          // open a new connection instead: wait that turn and reuse the warm one.
          setImmediate(dispatchInScope, this, options, handler, state, scope);
          return true;
        }
        // It goes out on an open connection: no connection set-up for a connect scope to attribute.
        if (now === 'free' && scope === undefined) return this.send(options, handler, state);
      }
    }
    return dispatchInScope(this, options, handler, state, scope);
  }

  /** @internal Dispatches on the Agent and notes when the origin's pool had no free connection left. */
  send(options: Agent.DispatchOptions, handler: Dispatcher.DispatchHandler, state: OriginState): boolean {
    const free = super.dispatch(options, handler);
    if (!free) state.busy = true;
    return free;
  }

  /** @internal */
  get scopes(): ConnectTracker['scopes'] {
    return this.tracker.scopes;
  }

  /** Fails the request the way undici fails a request it cannot take: through the handler, synchronously. */
  private refuse(state: OriginState, queued: number, handler: Dispatcher.DispatchHandler): boolean {
    state.saturated++;
    this.instruments.saturated(state);
    const err = new PoolSaturatedError(state.origin, queued, state.options.maxQueued, state.provider);
    if (typeof handler.onResponseError !== 'function') throw err;
    handler.onResponseError(null as unknown as Dispatcher.DispatchController, err);
    // Nothing was queued and no 'drain' will follow: report "not busy", as undici does for a refused request.
    return true;
  }

  /**
   * Closes every pool and fresh client once their in-flight requests are done; after `drainTimeoutMs` the
   * sockets still open are destroyed (their requests fail).
   */
  async shutdown(drainTimeoutMs: number): Promise<void> {
    // The Agent forgets its pools as soon as close() starts: keep them to destroy them if they do not drain.
    const open: Dispatcher[] = [];
    for (const state of this.registry.states.values()) {
      if (state.pool !== undefined && !state.pool.destroyed) open.push(state.pool);
      open.push(...state.freshClients);
    }
    const closing = Promise.all([this.close(), ...open.map((d) => d.close())]).then(() => false);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, drainTimeoutMs, true);
    });
    const timedOut = await Promise.race([closing, late]);
    clearTimeout(timer);
    if (!timedOut) return;
    const err = new Error(`flowgate pool: closed after ${drainTimeoutMs} ms with requests still in flight`);
    await Promise.all([this.destroy(err), ...open.map((d) => d.destroy(err))]);
    await closing.catch(() => {});
  }
}

/** Dispatches in the request's connect scope, opening one when the request has none for this origin. */
function dispatchInScope(
  agent: PoolDispatcher,
  options: Agent.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
  state: OriginState,
  scope: ConnectScope | undefined,
): boolean {
  if (scope !== undefined && scope.state === state) return agent.send(options, handler, state);
  return agent.scopes.run(new ConnectScope(state, 'demand', undefined), sendThrough, agent, options, handler, state);
}

function sendThrough(
  agent: PoolDispatcher,
  options: Agent.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
  state: OriginState,
): boolean {
  return agent.send(options, handler, state);
}
