import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { cache, memoryStore } from '@flowgate/plugin-cache';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localEmbedder } from './embedders/local.js';
import { semanticCache } from './plugin.js';
import { ask, Gateways, upstream } from './semantic.test-util.js';

let mock: MockProvider;
let dir: string;
const gateways = new Gateways(() => mock);
beforeAll(async () => {
  mock = await startMockProvider();
  dir = await mkdtemp(join(tmpdir(), 'flowgate-semantic-persist-'));
});
afterEach(async () => {
  await gateways.closeAll();
  mock.reset();
});
afterAll(async () => {
  await mock.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a persisted index across a restart', () => {
  it('is saved when the gateway closes and loaded before the next gateway’s first call', async () => {
    const path = join(dir, 'restart.idx');
    // The answers live in the exact cache's store, which outlives both gateways here (Redis or SQLite in real life).
    const store = memoryStore();
    const first = gateways.create([cache({ store, keepStoreOpen: true }), semanticCache({ persist: path })]);
    await first.complete(ask('How do I undo the last commit in git?'));
    await first.close();

    const semantic = semanticCache({ persist: path });
    const second = gateways.create([cache({ store, keepStoreOpen: true }), semantic]);
    const res = await second.complete(ask('How can I undo my last git commit?'));
    expect(res.flowgate.semanticCache!.hit).toBe(true);
    expect(res.choices[0]!.message.content).toBe('Mock answer to: How do I undo the last commit in git?');
    expect(upstream(mock)).toBe(1);
    expect(semantic.stats().entries).toBe(1);
  });

  it('saves and loads on demand; without a path that is a configuration error', async () => {
    const path = join(dir, 'on-demand.idx');
    const semantic = semanticCache({ persist: { path } });
    const gw = gateways.create([cache(), semantic]);
    await gw.complete(ask('What is DNA?'));
    expect(await semantic.save()).toBe(1);
    semantic.clear();
    expect(semantic.stats().entries).toBe(0);
    expect(await semantic.load()).toEqual({ loaded: 1, expired: 0 });
    await expect(semanticCache().save()).rejects.toThrow(/no `persist` path/);
  });

  it('starts anyway from a corrupt file or another embedder’s file, counting the error', async () => {
    const corrupt = join(dir, 'corrupt.idx');
    await writeFile(corrupt, 'garbage');
    const a = semanticCache({ persist: corrupt });
    const gw = gateways.create([cache(), a]);
    expect((await gw.complete(ask('What is DNA?'))).choices).toHaveLength(1);
    expect(a.stats().errors).toBe(1);

    const other = join(dir, 'other-embedder.idx');
    const b = semanticCache({ persist: other, embedder: localEmbedder({ dimensions: 128 }) });
    const gwb = gateways.create([cache(), b]);
    await gwb.complete(ask('What is DNA?'));
    await gwb.close();
    const c = semanticCache({ persist: other });
    const gwc = gateways.create([cache(), c]);
    await gwc.complete(ask('What is RNA?'));
    expect(c.stats()).toMatchObject({ errors: 1, entries: 1 });
  });
});
