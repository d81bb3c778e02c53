// @vitest-environment node
/**
 * Per-call attribution end to end: gateway + openai provider over HTTP to the mock provider, with
 * an SDK tracer provider (in-memory export) for the span attributes.
 */
import {
  type CallContext,
  type ChatCompletionRequest,
  createGateway,
  type Gateway,
  type Plugin,
  responseReply,
} from '@flowgate/core';
import { type MockProvider, startMockProvider } from '@flowgate/mock-provider';
import { openai } from '@flowgate/providers';
import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { telemetry } from '../../../packages/core/src/fakes.test-util.js';
import { CallAttribution } from './call-attribution.js';
import { allocate, forceGc, until } from './gc.test-util.js';
import { emptyTotals } from './gc-types.js';
import { type ProfilerOptions, type ProfilerPlugin, profiler } from './index.js';

let mock: MockProvider;
const gateways: Gateway[] = [];

beforeAll(async () => {
  mock = await startMockProvider();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  mock.reset();
});
afterAll(() => mock.close());

const completion = () => ({
  id: 'c',
  object: 'chat.completion' as const,
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant' as const, content: 'hi' }, finish_reason: 'stop' as const }],
});

const req = (model = 'gpt-4o-mini'): ChatCompletionRequest => ({
  model,
  messages: [{ role: 'user', content: 'how much memory does this call take' }],
});

function setup(options: ProfilerOptions, extra: Plugin[] = []) {
  const t = telemetry();
  const plugin = profiler({ leak: false, ...options });
  const gateway = createGateway({
    providers: [openai({ apiKey: 'test', baseURL: `${mock.url}/v1` })],
    plugins: [plugin, ...extra],
    tracerProvider: t.tracerProvider,
    meterProvider: t.meterProvider,
  });
  gateways.push(gateway);
  return { t, plugin, gateway };
}

/** Waits until the profiler has counted a GC beyond `seen`. */
async function gcCounted(plugin: ProfilerPlugin, seen: number): Promise<void> {
  await until(() => plugin.snapshot().gc.totalCount > seen, 'the forced GC to be reported');
}

describe('per-call attribution', () => {
  it('puts the heap delta and the GC pauses of a sampled call on its span, its meta and the report', async () => {
    const kept: unknown[] = [];
    let plugin!: ProfilerPlugin;
    // Inside the call: a full GC, then ~8+ MiB kept alive past the call's end.
    const allocator: Plugin = {
      name: 'allocator',
      setup(host) {
        host.useCall(async (_ctx, next) => {
          const seen = plugin.snapshot().gc.totalCount;
          forceGc();
          await gcCounted(plugin, seen);
          kept.push(allocate(8));
          return next();
        });
      },
    };
    const s = setup({ sampleRate: 1 }, [allocator]);
    plugin = s.plugin;
    // Start from a collected heap, so that the call's own GC frees almost nothing.
    const seen = plugin.snapshot().gc.totalCount;
    forceGc();
    await gcCounted(plugin, seen);

    const res = await s.gateway.complete(req());
    const profile = res.flowgate.profile!;
    expect(profile).toBeDefined();
    expect(profile.gcCount).toBeGreaterThanOrEqual(1);
    expect(profile.gcTimeMs).toBeGreaterThan(0);
    expect(profile.heapDeltaBytes).toBeGreaterThanOrEqual(8 * 1024 * 1024);

    const [span] = (await s.t.spans()).filter((x) => x.name === 'chat gpt-4o-mini');
    expect(span!.attributes).toMatchObject({
      'flowgate.profiler.sampled': true,
      'flowgate.profiler.gc.count': profile.gcCount,
      'flowgate.profiler.gc.pause_ms': profile.gcTimeMs,
      'flowgate.profiler.heap.delta_bytes': profile.heapDeltaBytes,
    });

    const report = plugin.report();
    expect(report).toMatchObject({ sampleRate: 1, calls: 1, sampledCalls: 1 });
    expect(report.operations).toEqual([
      {
        operation: 'chat',
        model: 'gpt-4o-mini',
        calls: 1,
        errors: 0,
        callsWithGc: 1,
        gcCount: profile.gcCount,
        gcTimeMs: { total: profile.gcTimeMs, avg: profile.gcTimeMs, max: profile.gcTimeMs },
        heapDeltaBytes: { avg: profile.heapDeltaBytes, min: profile.heapDeltaBytes, max: profile.heapDeltaBytes },
        durationMs: { avg: profile.durationMs, max: profile.durationMs },
      },
    ]);
    expect(kept.length).toBe(1);
  });

  it('samples exactly the configured share of calls and leaves the others untouched', async () => {
    const { t, plugin, gateway } = setup({ sampleRate: 0.25 });
    const responses = [];
    for (let i = 0; i < 8; i++) responses.push(await gateway.complete(req()));
    expect(responses.map((r) => r.flowgate.profile !== undefined)).toEqual([
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      true,
    ]);
    const spans = (await t.spans()).filter((x) => x.name === 'chat gpt-4o-mini');
    expect(spans).toHaveLength(8);
    expect(spans.filter((x) => x.attributes['flowgate.profiler.sampled'] === true)).toHaveLength(2);
    expect(spans.filter((x) => 'flowgate.profiler.heap.delta_bytes' in x.attributes)).toHaveLength(2);
    expect(plugin.report()).toMatchObject({ sampleRate: 0.25, calls: 8, sampledCalls: 2 });
  });

  it('keeps the rate exact for fractions that floats cannot represent', async () => {
    const { plugin, gateway } = setup({ sampleRate: 0.1 });
    for (let i = 0; i < 30; i++) await gateway.complete(req());
    expect(plugin.report().sampledCalls).toBe(3);
  });

  it('lets CallOptions.profile force or skip one call', async () => {
    const never = setup({ sampleRate: 0 });
    expect((await never.gateway.complete(req())).flowgate.profile).toBeUndefined();
    expect((await never.gateway.complete(req(), { profile: true })).flowgate.profile).toBeDefined();
    expect(never.plugin.report()).toMatchObject({ calls: 2, sampledCalls: 1 });

    const always = setup({ sampleRate: 1 });
    expect((await always.gateway.complete(req(), { profile: false })).flowgate.profile).toBeUndefined();
    expect((await always.gateway.complete(req())).flowgate.profile).toBeDefined();
    expect(always.plugin.report()).toMatchObject({ calls: 2, sampledCalls: 1 });
  });

  it('measures a streamed call when its stream ends, before the span closes', async () => {
    const { t, plugin, gateway } = setup({ sampleRate: 1 });
    const seen = plugin.snapshot().gc.totalCount;
    forceGc();
    await gcCounted(plugin, seen);
    const stream = gateway.stream(req());
    let text = '';
    let kept: unknown;
    for await (const chunk of stream) {
      // Kept while the stream is being read: part of the call only if it is measured at the end.
      kept ??= allocate(8);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toContain('Mock answer');
    const res = await stream.response;
    expect(res.flowgate.profile!.heapDeltaBytes).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    expect(kept).toBeDefined();
    expect(stream.meta.profile).toBe(res.flowgate.profile);
    const [span] = (await t.spans()).filter((x) => x.name === 'chat gpt-4o-mini');
    expect(span!.attributes['flowgate.profiler.sampled']).toBe(true);
    expect(span!.attributes['flowgate.profiler.heap.delta_bytes']).toBe(res.flowgate.profile!.heapDeltaBytes);
    expect(plugin.report().operations[0]).toMatchObject({ calls: 1, errors: 0 });
  });

  it('counts a failed call and an abandoned stream as errors without an unhandled rejection', async () => {
    const { plugin, gateway } = setup({ sampleRate: 1 });
    mock.script('gpt-4o-mini', [{ type: 'status', status: 400 }]);
    await expect(gateway.complete(req())).rejects.toMatchObject({ code: 'FLOWGATE_ERR_UPSTREAM_CLIENT' });

    const stream = gateway.stream(req());
    for await (const _ of stream) break;
    await expect(stream.response).rejects.toMatchObject({ code: 'FLOWGATE_ERR_ABORTED' });
    await until(() => plugin.report().operations[0]?.calls === 2, 'the abandoned stream to be recorded');
    expect(plugin.report().operations[0]).toMatchObject({ model: 'gpt-4o-mini', calls: 2, errors: 2 });
  });

  it('aggregates per operation and requested model', async () => {
    const { plugin, gateway } = setup({ sampleRate: 1 });
    await gateway.complete(req('model-a'));
    await gateway.complete(req('model-b'));
    await gateway.complete(req('model-b'));
    const ops = plugin.report().operations;
    expect(ops.map((o) => [o.operation, o.model, o.calls])).toEqual([
      ['chat', 'model-b', 2],
      ['chat', 'model-a', 1],
    ]);
  });

  it('folds models past the series limit into _OTHER', async () => {
    const attribution = new CallAttribution(1, emptyTotals(), 2);
    const reply = responseReply(completion());
    for (const model of ['a', 'b', 'c', 'd', 'a']) {
      const ctx = {
        operation: 'chat',
        request: { model, messages: [] },
        options: {},
        meta: { callId: 'x', attempts: [] },
        span: trace.wrapSpanContext(INVALID_SPAN_CONTEXT),
      } as unknown as CallContext;
      await attribution.middleware(ctx, async () => reply);
    }
    expect(attribution.report().operations.map((o) => [o.model, o.calls])).toEqual([
      ['a', 2],
      ['_OTHER', 2],
      ['b', 1],
    ]);
  });
});
