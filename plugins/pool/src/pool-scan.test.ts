import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolNow, queuedOn, readsUndiciKeys } from './pool-scan.js';

let server: Server;
let url: string;
/** Answers held back until released (for requests in flight). */
const held: (() => void)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const answer = () => res.end('ok');
    if (req.url === '/hold') held.push(answer);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** What pool.stats says, in the same terms. */
function fromStats(pool: Pool): string {
  const s = pool.stats;
  if (s.free > 0) return 'free';
  return s.connected > s.running ? 'cooling' : 'busy';
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('poolNow', () => {
  it("agrees with pool.stats while a connection is busy, cooling after its answer, then free, and reads undici's keys", async () => {
    const pool = new Pool(url, { connections: 1 });
    try {
      const first = pool.request({ path: '/hold', method: 'GET' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(poolNow(pool)).toBe('busy');
      expect(fromStats(pool)).toBe('busy');
      expect(readsUndiciKeys()).toBe(true);

      // A second request waits in the queue of this one-connection pool.
      const second = pool.request({ path: '/', method: 'GET' });
      expect(queuedOn(pool)).toBe(pool.stats.queued);
      held.shift()!();
      await (await first).body.text();
      await (await second).body.text();
      // The answer is read: undici hands the connection out again one turn later.
      expect(poolNow(pool)).toBe('cooling');
      expect(fromStats(pool)).toBe('cooling');
      await turn();
      await turn();
      expect(poolNow(pool)).toBe('free');
      expect(fromStats(pool)).toBe('free');
      expect(queuedOn(pool)).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('asks pool.stats for a pool whose clients are not under the keys it found (another copy of undici)', async () => {
    const real = new Pool(url);
    await (await real.request({ path: '/', method: 'GET' })).body.text();
    poolNow(real); // finds the keys on a pool that has a client
    await real.close();
    expect(readsUndiciKeys()).toBe(true);
    const stranger = (stats: Partial<Pool['stats']>) => ({ stats: { queued: 0, ...stats } }) as unknown as Pool;
    expect(poolNow(stranger({ free: 1, connected: 1, running: 0 }))).toBe('free');
    expect(poolNow(stranger({ free: 0, connected: 2, running: 1 }))).toBe('cooling');
    expect(poolNow(stranger({ free: 0, connected: 1, running: 1 }))).toBe('busy');
    expect(queuedOn(stranger({ queued: 3 }))).toBe(3);
  });
});
