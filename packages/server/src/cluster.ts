import cluster, { type Worker } from 'node:cluster';

export interface PrimaryOptions {
  workers: number;
  /** Grace given to workers to drain on SIGTERM before they are killed. */
  drainTimeoutMs: number;
  log: (line: string) => void;
  /** Called once, when every worker of the first start reports its server listening (with the base URL). */
  onListening?: (url: string) => void;
  /** Extra environment for the workers. */
  env?: Record<string, string>;
}

/** The message a worker sends the primary once its gateway server listens. */
export const LISTENING_MESSAGE = 'flowgate:listening';

/** In a cluster worker: tell the primary the server listens (the primary prints the banner once). */
export function reportListening(url: string): void {
  if (cluster.isWorker) process.send?.({ type: LISTENING_MESSAGE, url });
}

/**
 * The cluster primary: forks `workers` processes running the same command (they share the port),
 * restarts a worker that dies (with a growing delay when it dies right after starting, so that a
 * crash loop does not spin), and on SIGTERM/SIGINT asks every worker to drain, waits for them,
 * and exits. State shared between workers (cache, budgets) belongs in Redis, through the plugins.
 */
export function runPrimary(options: PrimaryOptions): void {
  let stopping = false;
  let announced = false;
  let quickDeaths = 0;
  const startedAt = new Map<number, number>();

  const fork = (): Worker => {
    const w = cluster.fork(options.env);
    startedAt.set(w.id, Date.now());
    return w;
  };

  // Not cluster's 'listening' event: a worker may listen on other ports too. Announced once every
  // worker of the first start listens (so that the port stays open if one of them dies right away).
  const listening = new Set<number>();
  cluster.on('message', (worker, message: unknown) => {
    const m = message as { type?: unknown; url?: unknown } | null;
    if (announced || m?.type !== LISTENING_MESSAGE || typeof m.url !== 'string') return;
    listening.add(worker.id);
    if (listening.size < options.workers) return;
    announced = true;
    options.onListening?.(m.url);
  });

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    quickDeaths = lived < 5_000 ? quickDeaths + 1 : 0;
    const delay = quickDeaths === 0 ? 0 : Math.min(30_000, 500 * 2 ** (quickDeaths - 1));
    options.log(
      `flowgate: worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); restarting${delay ? ` in ${delay} ms` : ''}`,
    );
    setTimeout(() => {
      if (!stopping) fork();
    }, delay).unref();
  });

  const stop = (sig: NodeJS.Signals) => {
    if (stopping) {
      options.log('flowgate: second signal, exiting now');
      process.exit(1);
    }
    stopping = true;
    options.log(`flowgate: ${sig}, draining ${Object.keys(cluster.workers ?? {}).length} workers`);
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    setTimeout(() => {
      options.log('flowgate: workers did not stop in time, killing them');
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }, options.drainTimeoutMs + 5_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  for (let i = 0; i < options.workers; i++) fork();
}
