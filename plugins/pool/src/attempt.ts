import { type AttemptContext, type AttemptMiddleware, ConfigError, type Next, type Reply } from '@flowgate/core';
import { Client, type Dispatcher } from 'undici';
import { ConnectScope, type ConnectTracker } from './connect-tracker.js';
import type { OriginRegistry } from './origin-registry.js';
import { ATTR_POOL_FRESH_CONNECTION } from './semconv.js';

/**
 * The attempt middleware. It runs the attempt in a connect scope that carries the attempt span, so that a
 * connection opened for this attempt shows as a span event on it; with `options.pool.freshConnection` it sends
 * the attempt on a one-shot connection instead of the pool.
 */
export function poolAttempt(agent: Dispatcher, registry: OriginRegistry, tracker: ConnectTracker): AttemptMiddleware {
  return (ctx, next) => {
    if (ctx.options.pool?.freshConnection === true) return freshAttempt(ctx, next, registry, tracker);
    // Without a recording span there is no event to add: the dispatcher opens a scope of its own for metrics.
    if (ctx.dispatcher !== agent || !ctx.attemptSpan.isRecording()) return next();
    const origin = ctx.target.provider.origin;
    if (origin === undefined) return next();
    return tracker.scopes.run(new ConnectScope(registry.get(origin), 'demand', ctx.attemptSpan), next);
  };
}

async function freshAttempt(
  ctx: AttemptContext,
  next: Next,
  registry: OriginRegistry,
  tracker: ConnectTracker,
): Promise<Reply> {
  const origin = ctx.target.provider.origin;
  if (origin === undefined) {
    throw new ConfigError(
      `pool: provider "${ctx.target.provider.id}" has no \`origin\`, so a fresh connection cannot be opened for it`,
    );
  }
  const state = registry.get(origin);
  const client = new Client(state.origin, state.freshClientOptions());
  state.freshConnections++;
  state.freshClients.add(client);
  // close() lets the request finish, then closes the socket; the client stays listed until it is closed.
  const release = (): void => {
    client
      .close()
      .catch(() => {})
      .finally(() => state.freshClients.delete(client));
  };
  ctx.dispatcher = client;
  if (ctx.attemptSpan.isRecording()) ctx.attemptSpan.setAttribute(ATTR_POOL_FRESH_CONNECTION, true);
  const span = ctx.attemptSpan.isRecording() ? ctx.attemptSpan : undefined;
  let reply: Reply;
  try {
    reply = await tracker.scopes.run(new ConnectScope(state, 'fresh', span), next);
  } catch (err) {
    release();
    throw err;
  }
  if (reply.type === 'response') release();
  else reply.response.then(release, release);
  return reply;
}
