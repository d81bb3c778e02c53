import {
  ConfigError,
  createGateway,
  type Gateway,
  InvalidRequestError,
  type Plugin,
  type Provider,
} from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Deployment,
  NoDeploymentError,
  type PriceLookup,
  type RouterOptions,
  router,
  type Strategy,
} from './index.js';
import { ask } from './router.test-util.js';

let mock: MockProvider;
const open: Gateway[] = [];

beforeAll(async () => {
  mock = await startMockProvider();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
  mock.reset();
});
afterAll(async () => {
  await mock.close();
});

const providers = (): Provider[] => [
  openai({ id: 'a', baseURL: `${mock.url}/v1`, apiKey: 'k', models: /^(m|cheap|pricey)/ }),
  openai({ id: 'b', baseURL: `${mock.url}/v1`, apiKey: 'k', models: /^(m|cheap|pricey)/ }),
];

function gateway(options: RouterOptions, plugins: Plugin[] = []): Gateway {
  const g = createGateway({ providers: providers(), plugins: [...plugins, router(options)] });
  open.push(g);
  return g;
}

describe('router configuration', () => {
  const bad: [string, RouterOptions, RegExp][] = [
    ['unknown provider', { models: { x: [{ provider: 'zz', model: 'm1' }] } }, /no provider has the id "zz".*a, b/],
    [
      'a model the provider does not serve',
      { models: { x: [{ provider: 'a', model: 'gpt-4o' }] } },
      /does not serve model "gpt-4o"/,
    ],
    ['an empty alias', { models: { x: [] } }, /needs at least one deployment/],
    [
      'a deployment listed twice',
      {
        models: {
          x: [
            { provider: 'a', model: 'm1' },
            { provider: 'a', model: 'm1' },
          ],
        },
      },
      /listed twice/,
    ],
    ['a weight of 0', { models: { x: [{ provider: 'a', model: 'm1', weight: 0 }] } }, /weight must be a number > 0/],
    ['an unknown strategy', { strategy: 'fastest' as never }, /unknown routing strategy "fastest"/],
    ['negative retries', { retry: { maxRetries: -1 } }, /maxRetries/],
    ['a bad breaker threshold', { breaker: { errorThresholdPercentage: 150 } }, /errorThresholdPercentage/],
    ['a bad hedge delay', { hedge: { delay: -5 } }, /hedge.delay/],
    ['a bad stall timeout', { stallTimeoutMs: 0 }, /stallTimeoutMs/],
    ['a bad price', { prices: { m1: { inputPerMTok: -1, outputPerMTok: 1 } } }, /prices\["m1"\]/],
    [
      'a key reused for another deployment',
      { models: { x: [{ provider: 'a', model: 'm1', key: 'k' }], y: [{ provider: 'b', model: 'm2', key: 'k' }] } },
      /key "k" already names a\/m1/,
    ],
  ];
  for (const [what, options, message] of bad) {
    it(`refuses ${what} with a ConfigError at createGateway`, () => {
      let err: unknown;
      try {
        createGateway({ providers: providers(), plugins: [router(options)] });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('shares one breaker and one set of stats per deployment across aliases', async () => {
    const plugin = router({
      models: {
        fast: [{ provider: 'a', model: 'm1' }],
        smart: [
          { provider: 'a', model: 'm1' },
          { provider: 'b', model: 'm2' },
        ],
      },
      strategy: 'priority',
    });
    const g = createGateway({ providers: providers(), plugins: [plugin] });
    open.push(g);
    await g.complete(ask('fast'));
    await g.complete(ask('smart'));
    const a = plugin.deployments().filter((d) => d.key === 'a/m1');
    expect(a).toHaveLength(1);
    expect(a[0]?.successes).toBe(2);
  });

  it('takes a strategy per alias', async () => {
    const seen: string[] = [];
    const spy: Strategy = {
      name: 'spy',
      select(candidates, ctx) {
        seen.push(`${ctx.group}:${candidates.map((d) => d.key).join(',')}`);
        return [...candidates].reverse();
      },
    };
    const g = gateway({
      models: {
        spied: {
          deployments: [
            { provider: 'a', model: 'm1' },
            { provider: 'b', model: 'm2' },
          ],
          strategy: spy,
        },
        plain: [{ provider: 'a', model: 'm1' }],
      },
    });
    expect((await g.complete(ask('spied'))).flowgate.provider).toBe('b');
    await g.complete(ask('plain'));
    expect(seen).toEqual(['spied:a/m1,b/m2']);
    expect((await g.complete(ask('spied'))).flowgate.router?.strategy).toBe('spy');
  });

  it('a strategy that chooses nothing gives a NoDeploymentError; objects that are not candidates are ignored', async () => {
    const none: Strategy = { name: 'none', select: () => [] };
    await expect(
      gateway({ models: { x: { deployments: [{ provider: 'a', model: 'm1' }], strategy: none } } }).complete(ask('x')),
    ).rejects.toBeInstanceOf(NoDeploymentError);
    const foreign: Strategy = {
      name: 'foreign',
      select: (c) => [{ ...(c[0] as Deployment) }, c[0]!],
    };
    const res = await gateway({
      models: { x: { deployments: [{ provider: 'a', model: 'm1' }], strategy: foreign } },
    }).complete(ask('x'));
    expect(res.flowgate.router?.attempts).toHaveLength(1);
  });
});

describe('per-call options', () => {
  it('refuse a malformed router option with an InvalidRequestError naming it, before anything is sent', async () => {
    const g = gateway({ models: { x: [{ provider: 'a', model: 'm1' }] } });
    const bad = [
      [{ tags: 'eu' }, 'options.router.tags'],
      [{ maxRetries: -1 }, 'options.router.maxRetries'],
      [{ hedge: 'soon' }, 'options.router.hedge'],
      [{ maxCostUsd: 'cheap' }, 'options.router.maxCostUsd'],
    ] as const;
    for (const [router, field] of bad) {
      const err = await g.complete(ask('x'), { router: router as never }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidRequestError);
      expect((err as InvalidRequestError).field).toBe(field);
    }
    expect(mock.stats().requests).toBe(0);
  });
});

describe('cost-aware prices', () => {
  const models = {
    x: [
      { provider: 'a', model: 'cheap' },
      { provider: 'b', model: 'pricey' },
    ],
  };
  const routerPrices = {
    cheap: { inputPerMTok: 0.1, outputPerMTok: 0.4 },
    pricey: { inputPerMTok: 5, outputPerMTok: 15 },
  };

  it('uses the prices given to the router when no token optimizer is installed', async () => {
    const res = await gateway({ models, strategy: 'cost', prices: routerPrices }).complete(ask('x'));
    expect(res.flowgate.provider).toBe('a');
  });

  it("prefers the token optimizer's price table when that plugin is installed", async () => {
    // What the token optimizer exposes: a `prices` property with `priceOf(model)`.
    const table: PriceLookup = {
      priceOf: (model) => (model === 'pricey' ? { inputPerMTok: 0.01, outputPerMTok: 0.01 } : undefined),
    };
    const optimizer = { name: 'token-optimizer', prices: table, setup() {} } as Plugin;
    const res = await gateway({ models, strategy: 'cost', prices: routerPrices }, [optimizer]).complete(ask('x'));
    expect(res.flowgate.provider).toBe('b');
  });

  it("a deployment's own price beats every table", async () => {
    const own = {
      x: [
        { provider: 'a', model: 'cheap', price: { inputPerMTok: 100, outputPerMTok: 100 } },
        { provider: 'b', model: 'pricey' },
      ],
    };
    const res = await gateway({ models: own, strategy: 'cost', prices: routerPrices }).complete(ask('x'));
    expect(res.flowgate.provider).toBe('b');
  });
});
