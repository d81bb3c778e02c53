import { describe, expect, it } from 'vitest';
import { CliUsageError, parseCliOptions } from './cli-options.js';

describe('parseCliOptions', () => {
  it('defaults to port 8081 and no behaviour', () => {
    expect(parseCliOptions([])).toEqual({ help: false, options: { port: 8081, defaults: {} } });
  });

  it('maps every flag to server options', () => {
    const { options } = parseCliOptions([
      '--port',
      '0',
      '--host',
      '0.0.0.0',
      '--latency',
      '50',
      '--ttft',
      '100',
      '--tps',
      '50',
      '--fault-rate',
      '0.25',
      '--fault',
      '429',
      '--retry-after',
      '3',
      '--seed',
      '9',
      '--api-key',
      'k',
      '--text',
      'hi there',
    ]);
    expect(options).toEqual({
      port: 0,
      host: '0.0.0.0',
      seed: 9,
      apiKey: 'k',
      defaults: {
        latencyMs: 50,
        ttftMs: 100,
        tokensPerSecond: 50,
        text: 'hi there',
        faults: [{ fault: { type: 'status', status: 429, retryAfter: 3 }, rate: 0.25 }],
      },
    });
  });

  it('parses named faults, stall with a count, and a default rate', () => {
    expect(parseCliOptions(['--fault', 'reset']).options.defaults?.faults).toEqual([
      { fault: { type: 'reset' }, rate: 0.1 },
    ]);
    expect(parseCliOptions(['--fault', 'stall:5']).options.defaults?.faults?.[0]?.fault).toEqual({
      type: 'stall',
      afterChunks: 5,
    });
    expect(parseCliOptions(['--fault', 'truncate']).options.defaults?.faults?.[0]?.fault).toEqual({ type: 'truncate' });
  });

  it('rejects bad input', () => {
    expect(() => parseCliOptions(['--fault', 'explode'])).toThrow(CliUsageError);
    expect(() => parseCliOptions(['--fault-rate', '0.5'])).toThrow(CliUsageError);
    expect(() => parseCliOptions(['--fault', '503', '--fault-rate', '2'])).toThrow(CliUsageError);
    expect(() => parseCliOptions(['--latency', 'soon'])).toThrow(CliUsageError);
    expect(() => parseCliOptions(['--bogus'])).toThrow();
    expect(parseCliOptions(['-h']).help).toBe(true);
  });
});
