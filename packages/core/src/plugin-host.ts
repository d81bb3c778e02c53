import type { Meter, Tracer } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { ConfigError } from './errors.js';
import type {
  AttemptMiddleware,
  CallContext,
  CallMiddleware,
  ErrorObserver,
  Plugin,
  PluginHost,
  Provider,
  Reply,
  RequestHook,
  ResponseObserver,
  Router,
  Target,
} from './types.js';

/** Everything the plugins registered, in registration order. */
export interface Registry {
  requestHooks: RequestHook[];
  callMiddleware: CallMiddleware[];
  attemptMiddleware: AttemptMiddleware[];
  responseObservers: ResponseObserver[];
  errorObservers: ErrorObserver[];
  /** Close hooks grouped per plugin, in setup order (run in reverse). */
  closers: (() => void | Promise<void>)[][];
  router: Router | undefined;
  routerOwner: string | undefined;
  dispatcher: Dispatcher | undefined;
  dispatcherOwner: string | undefined;
  startup: Promise<void>[];
  /** Set by the gateway once the attempt chain is composed; backs `host.runAttempt`. */
  attemptRunner: ((ctx: CallContext, target: Target) => Promise<Reply>) | undefined;
}

/**
 * Runs every plugin's `setup` against a host that is sealed as soon as setup returns, so that
 * nothing registers once the pipeline has been composed.
 */
export function setupPlugins(
  plugins: readonly Plugin[],
  providers: readonly Provider[],
  tracer: Tracer,
  meter: Meter,
): Registry {
  const names = new Set<string>();
  for (const p of plugins) {
    if (typeof p?.name !== 'string' || typeof p.setup !== 'function') {
      throw new ConfigError('a plugin must be an object with a string `name` and a `setup(host)` function');
    }
    if (names.has(p.name)) throw new ConfigError(`two plugins are named "${p.name}"; plugin names must be unique`);
    names.add(p.name);
  }
  for (const p of plugins) {
    for (const dep of p.dependsOn ?? []) {
      if (!names.has(dep))
        throw new ConfigError(`plugin "${p.name}" depends on plugin "${dep}", which is not installed`);
    }
  }

  const reg: Registry = {
    requestHooks: [],
    callMiddleware: [],
    attemptMiddleware: [],
    responseObservers: [],
    errorObservers: [],
    closers: [],
    router: undefined,
    routerOwner: undefined,
    dispatcher: undefined,
    dispatcherOwner: undefined,
    startup: [],
    attemptRunner: undefined,
  };
  const byName = new Map(plugins.map((p) => [p.name, p] as const));

  for (const plugin of plugins) {
    let open = true;
    const closers: (() => void | Promise<void>)[] = [];
    reg.closers.push(closers);
    const guard = (what: string) => {
      if (!open) throw new ConfigError(`plugin "${plugin.name}" called ${what} after the gateway started`);
    };
    const host: PluginHost = {
      tracer,
      meter,
      providers,
      getPlugin: <P extends Plugin>(name: string) => byName.get(name) as P | undefined,
      onRequest: (hook) => {
        guard('onRequest');
        reg.requestHooks.push(hook);
      },
      useCall: (mw) => {
        guard('useCall');
        reg.callMiddleware.push(mw);
      },
      useAttempt: (mw) => {
        guard('useAttempt');
        reg.attemptMiddleware.push(mw);
      },
      setRouter: (router) => {
        guard('setRouter');
        if (reg.router) {
          throw new ConfigError(`plugin "${plugin.name}" sets a router, but plugin "${reg.routerOwner}" already did`);
        }
        reg.router = router;
        reg.routerOwner = plugin.name;
      },
      runAttempt: (ctx, target) => {
        const run = reg.attemptRunner;
        if (!run) return Promise.reject(new ConfigError('runAttempt works only while a call is running'));
        return run(ctx, target);
      },
      setDispatcher: (dispatcher) => {
        guard('setDispatcher');
        if (reg.dispatcher) {
          throw new ConfigError(
            `plugin "${plugin.name}" sets a dispatcher, but plugin "${reg.dispatcherOwner}" already did`,
          );
        }
        reg.dispatcher = dispatcher;
        reg.dispatcherOwner = plugin.name;
      },
      onResponse: (observer) => {
        guard('onResponse');
        reg.responseObservers.push(observer);
      },
      onError: (observer) => {
        guard('onError');
        reg.errorObservers.push(observer);
      },
      onClose: (fn) => {
        guard('onClose');
        closers.push(fn);
      },
    };
    try {
      const started = plugin.setup(host);
      if (started && typeof started.then === 'function') reg.startup.push(started);
    } finally {
      open = false;
    }
  }
  return reg;
}
