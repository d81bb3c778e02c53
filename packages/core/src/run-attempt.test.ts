import { describe, expect, it } from 'vitest';
import { ErrorCode, MiddlewareError, TimeoutError, UpstreamServerError } from './errors.js';
import { completion, fakeProvider, telemetry } from './fakes.test-util.js';
import { createGateway } from './gateway.js';
import { responseReply } from './reply.js';
import type { AttemptContext, Plugin, PluginHost, Provider, Reply, Router } from './types.js';
import type { ChatCompletionRequest } from './wire.js';

const req = (model = 'm'): ChatCompletionRequest => ({ model, messages: [{ role: 'user', content: 'hi' }] });

/** A provider that answers only when `release()` is called, and fails with the signal's reason on abort. */
function heldProvider(id: string) {
  const seen: AttemptContext[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  const provider: Provider = {
    id,
    system: 'fake',
    serves: () => true,
    send(ctx): Promise<Reply> {
      seen.push(ctx);
      return new Promise<Reply>((resolve, reject) => {
        const onAbort = () => reject(ctx.signal.reason);
        if (ctx.signal.aborted) return onAbort();
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        released.then(() => {
          ctx.signal.removeEventListener('abort', onAbort);
          resolve(responseReply(completion(`from ${id}`, ctx.targetRequest.model)));
        });
      });
    },
  };
  return { provider, seen, release: () => release() };
}

describe('attempt middleware may give an attempt its own signal', () => {
  it('the provider sees the replacement; aborting it fails that attempt only and the plan goes on', async () => {
    const slow = heldProvider('slow');
    const fast = fakeProvider('fast');
    const router: Router = {
      name: 'two',
      plan: () => [
        { provider: slow.provider, model: 'm' },
        { provider: fast, model: 'm' },
      ],
    };
    const perAttempt: Plugin = {
      name: 'per-attempt-timeout',
      setup(host) {
        host.setRouter(router);
        host.useAttempt(async (ctx, next) => {
          const controller = new AbortController();
          ctx.signal = controller.signal;
          ctx.cancellable = true;
          // Cut the first attempt at once; let the others run.
          if (ctx.attempt === 1) queueMicrotask(() => controller.abort(new TimeoutError('attempt timeout')));
          return next();
        });
      },
    };
    const gw = createGateway({ providers: [slow.provider, fast], plugins: [perAttempt] });
    const res = await gw.complete(req());
    expect(res.flowgate.provider).toBe('fast');
    expect(res.flowgate.attempts.map((a) => [a.provider, a.outcome, a.errorCode])).toEqual([
      ['slow', 'error', ErrorCode.TIMEOUT],
      ['fast', 'ok', undefined],
    ]);
    expect(slow.seen[0]?.signal.aborted).toBe(true);
    expect(fast.calls[0]?.signal.aborted).toBe(false);
    expect(fast.calls[0]?.cancellable).toBe(true);
    await gw.close();
  });
});

describe('host.runAttempt', () => {
  it('races an extra attempt beside the plan; the winner becomes the call provider, numbers never repeat', async () => {
    const t = telemetry();
    const slow = heldProvider('slow');
    const fast = fakeProvider('fast');
    const seenAttempts: string[] = [];
    const hedging: Plugin = {
      name: 'hedging',
      setup(h) {
        h.setRouter({ name: 'slow-first', plan: () => [{ provider: slow.provider, model: 'm' }] });
        const losers = new AbortController();
        h.useCall(async (ctx, next) => {
          const primary = next();
          primary.catch(() => {});
          const reply = await h.runAttempt(ctx, { provider: fast, model: 'm2', key: 'fast/m2' });
          losers.abort(new TimeoutError('lost the race')); // cancel the planned attempt
          await expect(primary).rejects.toBeInstanceOf(TimeoutError);
          return reply;
        });
        h.useAttempt(async (ctx, next) => {
          seenAttempts.push(`${ctx.attempt}:${ctx.target.provider.id}`);
          if (ctx.target.provider === slow.provider) {
            ctx.signal = losers.signal;
            ctx.cancellable = true;
          }
          return next();
        });
      },
    };
    const gw = createGateway({
      providers: [slow.provider, fast],
      plugins: [hedging],
      tracerProvider: t.tracerProvider,
    });
    const res = await gw.complete(req());
    expect(res.choices[0]?.message.content).toBe('hello world');
    expect(res.flowgate.provider).toBe('fast');
    expect(res.model).toBe('m2');
    expect(seenAttempts).toEqual(['1:slow', '2:fast']);
    expect(res.flowgate.attempts.map((a) => [a.provider, a.outcome]).sort()).toEqual([
      ['fast', 'ok'],
      ['slow', 'error'],
    ]);
    const spans = await t.spans();
    const attemptSpans = spans.filter((s) => s.name.startsWith('attempt '));
    expect(attemptSpans.map((s) => s.attributes['flowgate.attempt']).sort()).toEqual([1, 2]);
    const call = spans.find((s) => s.name === 'chat m');
    for (const s of attemptSpans) expect(s.parentSpanContext?.spanId).toBe(call?.spanContext().spanId);
    await gw.close();
  });

  it('gives the call to the attempt that answered, even when an earlier-started one is still running', async () => {
    const slow = heldProvider('slow');
    const fast = fakeProvider('fast');
    const plugin: Plugin = {
      name: 'extra-first',
      setup(h) {
        h.setRouter({ name: 'fast-planned', plan: () => [{ provider: fast, model: 'm' }] });
        h.useCall(async (ctx, next) => {
          const extra = h.runAttempt(ctx, { provider: slow.provider, model: 'm' }); // starts first
          extra.catch(() => {});
          const reply = await next();
          slow.release();
          await extra;
          return reply;
        });
      },
    };
    const gw = createGateway({ providers: [slow.provider, fast], plugins: [plugin] });
    const res = await gw.complete(req());
    // The extra attempt started first and answered last: the call's provider is the last one that succeeded.
    expect(res.flowgate.provider).toBe('slow');
    expect(res.flowgate.attempts.map((a) => a.outcome)).toEqual(['ok', 'ok']);
    await gw.close();
  });

  it('rejects with the attempt error without asking shouldFallback', async () => {
    const down = fakeProvider('down', { fail: () => new UpstreamServerError('503', { status: 503 }) });
    const up = fakeProvider('up');
    let asked = 0;
    const plugin: Plugin = {
      name: 'extra',
      setup(h) {
        h.setRouter({
          name: 'r',
          plan: () => [{ provider: up, model: 'm' }],
          shouldFallback: () => {
            asked++;
            return true;
          },
        });
        h.useCall(async (ctx, next) => {
          const err = await h.runAttempt(ctx, { provider: down, model: 'm' }).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(UpstreamServerError);
          return next();
        });
      },
    };
    const gw = createGateway({ providers: [down, up], plugins: [plugin] });
    const res = await gw.complete(req());
    expect(asked).toBe(0);
    expect(res.flowgate.provider).toBe('up');
    expect(res.flowgate.attempts.map((a) => [a.provider, a.outcome])).toEqual([
      ['down', 'error'],
      ['up', 'ok'],
    ]);
    await gw.close();
  });

  it('refuses a context that is not a running call', async () => {
    let host: PluginHost | undefined;
    const p = fakeProvider('p');
    const keep: Plugin = {
      name: 'keep',
      setup(h) {
        host = h;
      },
    };
    const gw = createGateway({ providers: [p], plugins: [keep] });
    const fake = { request: req() } as unknown as Parameters<PluginHost['runAttempt']>[0];
    await expect(host!.runAttempt(fake, { provider: p, model: 'm' })).rejects.toBeInstanceOf(MiddlewareError);
    await gw.close();
  });
});
