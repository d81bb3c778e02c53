/**
 * Redis for tests: `REDIS_URL` (default redis://127.0.0.1:6379). Tests that need it use
 * `describeWithRedis`: they run when Redis answers PING, and skip with a message when it does not,
 * unless FLOWGATE_REQUIRE_REDIS=1 (CI), where an unreachable Redis fails the run.
 */
import { connect } from 'node:net';
import { describe } from 'vitest';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** PINGs Redis over a raw socket; resolves true on +PONG within `timeoutMs`. */
export function pingRedis(url = REDIS_URL, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

const available = await pingRedis();
if (!available) {
  if (process.env.FLOWGATE_REQUIRE_REDIS === '1') {
    throw new Error(`FLOWGATE_REQUIRE_REDIS=1 but Redis at ${REDIS_URL} does not answer`);
  }
  console.warn(`[flowgate tests] Redis at ${REDIS_URL} is not reachable: Redis tests are SKIPPED`);
}

export const redisAvailable = available;

/** `describe` that runs only when Redis is reachable (and fails the run when it is required but missing). */
export function describeWithRedis(name: string, fn: () => void): void {
  if (available) {
    describe(name, fn);
    return;
  }
  // Why skip: Redis is unreachable and not required, as on a laptop without it. CI sets
  // FLOWGATE_REQUIRE_REDIS=1, which fails the run above instead of skipping.
  describe.skip(`${name} (skipped: no Redis at ${REDIS_URL})`, fn);
}
