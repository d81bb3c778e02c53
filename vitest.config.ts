import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages from source, so `npm test` needs no build first.
const src = (pkg: string) => fileURLToPath(new URL(`./${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@flowgate/core': src('packages/core'),
      '@flowgate/providers': src('packages/providers'),
      '@flowgate/mock-provider': src('packages/mock-provider'),
      '@flowgate/telemetry': src('packages/telemetry'),
      '@flowgate/server': src('packages/server'),
      '@flowgate/plugin-router': src('plugins/router'),
      '@flowgate/plugin-cache': src('plugins/cache'),
      '@flowgate/plugin-pool': src('plugins/pool'),
      '@flowgate/plugin-token-optimizer': src('plugins/token-optimizer'),
      '@flowgate/plugin-profiler': src('plugins/profiler'),
      '@flowgate/plugin-semantic-cache': src('plugins/semantic-cache'),
    },
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'plugins/*/src/**/*.test.ts',
      'examples/*/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
