import { ConfigError, createGateway, type Provider } from '@flowgate/core';
import { openai } from '@flowgate/providers';
import { describe, expect, it } from 'vitest';
import { type PoolOptions, pool } from './index.js';

const providers = () => [openai({ id: 'a', baseURL: 'https://api.example.com/v1' })];

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('FLOWGATE_ERR_CONFIG');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('options', () => {
  it.each([
    [{ connections: 0 }, /connections must be a whole number >= 1/],
    [{ connections: 1.5 }, /connections/],
    [{ pipelining: -1 }, /pipelining/],
    [{ keepAliveTimeout: 0 }, /keepAliveTimeout/],
    [{ keepAliveMaxTimeout: Number.NaN }, /keepAliveMaxTimeout/],
    [{ headersTimeout: -5 }, /headersTimeout/],
    [{ bodyTimeout: Number.POSITIVE_INFINITY }, /bodyTimeout/],
    [{ maxQueued: -1 }, /maxQueued/],
    [{ allowH2: 'yes' }, /allowH2 must be true or false/],
    [{ connect: { timeout: -1 } }, /connect\.timeout/],
    [{ connect: { maxCachedSessions: 1.5 } }, /maxCachedSessions/],
    [{ warmUp: { connections: 3 }, connections: 2 }, /warmUp\.connections \(3\) is more than the pool may open/],
    [{ warmUp: { connections: 1 }, pipelining: 0 }, /pipelining is 0/],
    [{ warmUp: { connections: 1, method: 'POST' } }, /warmUp\.method/],
    [{ warmUp: { connections: 1, path: 'v1/models' } }, /warmUp\.path/],
    [{ drainTimeoutMs: -1 }, /drainTimeoutMs/],
    [{ origins: { 'ftp://x': {} } }, /must be an http\(s\) origin/],
    [{ origins: { 'not a url': {} } }, /is not a URL/],
    [{ origins: { 'https://a.example': { connections: -2 } } }, /origins\["https:\/\/a\.example"\]\.connections/],
    [{ origins: { 'https://a.example/v1': {}, 'https://A.example': {} } }, /two keys for https:\/\/a\.example/],
  ])('refuses %j', (options, message) => {
    expect(configError(() => pool(options as unknown as PoolOptions)).message).toMatch(message);
  });

  it('accepts Infinity for connections and maxQueued, and per-origin overrides keyed by any URL of the origin', () => {
    expect(() =>
      createGateway({
        providers: providers(),
        plugins: [
          pool({
            connections: Number.POSITIVE_INFINITY,
            maxQueued: Number.POSITIVE_INFINITY,
            origins: { 'https://API.example.com/v1/': { connections: 4 } },
          }),
        ],
      }),
    ).not.toThrow();
  });

  it('refuses an origins key that is no provider origin, at gateway creation', () => {
    const err = configError(() =>
      createGateway({
        providers: providers(),
        plugins: [pool({ origins: { 'https://api.other.com': { connections: 1 } } })],
      }),
    );
    expect(err.message).toContain(
      'https://api.other.com, which is not the origin of any provider (https://api.example.com)',
    );
  });

  it('cannot be installed in two gateways', () => {
    const plugin = pool();
    createGateway({ providers: providers(), plugins: [plugin] });
    expect(configError(() => createGateway({ providers: providers(), plugins: [plugin] })).message).toMatch(
      /already installed/,
    );
  });

  it('exposes its dispatcher once installed, and registers it as the gateway dispatcher', async () => {
    const plugin = pool();
    expect(plugin.dispatcher).toBeUndefined();
    const seen: unknown[] = [];
    const spy: Provider = {
      id: 'spy',
      system: 'spy',
      origin: 'https://spy.example',
      serves: () => true,
      async send(ctx) {
        seen.push(ctx.dispatcher);
        throw new ConfigError('stop here');
      },
    };
    const gateway = createGateway({ providers: [spy], plugins: [plugin] });
    await expect(gateway.complete({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow(
      'stop here',
    );
    expect(seen).toEqual([plugin.dispatcher]);
    expect(Object.keys(plugin.stats())).toEqual(['https://spy.example']);
    await gateway.close();
  });

  it('refuses a fresh connection for a provider without an origin', async () => {
    const noOrigin: Provider = {
      id: 'no-origin',
      system: 'x',
      serves: () => true,
      send: async () => {
        throw new Error('not reached');
      },
    };
    const gateway = createGateway({ providers: [noOrigin], plugins: [pool()] });
    const err = await gateway
      .complete({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, { pool: { freshConnection: true } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/provider "no-origin" has no `origin`/);
    await gateway.close();
  });
});
