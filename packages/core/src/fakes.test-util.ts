import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { responseReply, streamReply } from './reply.js';
import type { AttemptContext, Provider, Reply } from './types.js';
import type { ChatCompletion, ChatCompletionChunk } from './wire.js';

export function completion(text: string, model = 'm'): ChatCompletion {
  return {
    id: 'c1',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  };
}

export function chunk(
  model: string,
  delta: ChatCompletionChunk['choices'][number]['delta'],
  finish: 'stop' | null = null,
): ChatCompletionChunk {
  return {
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

export interface FakeProvider extends Provider {
  calls: AttemptContext[];
  /** Set when a stream's reader went away and the source was closed. */
  streamClosed: number;
}

/** An in-process provider for pipeline unit tests (HTTP behaviour is tested against the mock server). */
export function fakeProvider(
  id: string,
  opts: {
    models?: string[];
    fail?: (ctx: AttemptContext) => unknown;
    words?: string[];
    /** Wait for this before each chunk after the first. */
    gate?: () => Promise<void>;
  } = {},
): FakeProvider {
  const p: FakeProvider = {
    id,
    system: 'fake',
    address: { host: 'fake.local', port: 443 },
    calls: [],
    streamClosed: 0,
    serves: (model) => !opts.models || opts.models.includes(model),
    async send(ctx): Promise<Reply> {
      p.calls.push(ctx);
      const err = opts.fail?.(ctx);
      if (err) throw err;
      const words = opts.words ?? ['hello', ' world'];
      const model = ctx.targetRequest.model;
      if (!ctx.streaming) return responseReply(completion(words.join(''), model));
      async function* gen(): AsyncGenerator<ChatCompletionChunk> {
        let finished = false;
        try {
          yield chunk(model, { role: 'assistant', content: '' });
          for (const w of words) {
            if (opts.gate) await opts.gate();
            if (ctx.signal.aborted) throw ctx.signal.reason;
            yield chunk(model, { content: w });
          }
          yield chunk(model, {}, 'stop');
          yield {
            ...chunk(model, {}),
            choices: [],
            usage: { prompt_tokens: 5, completion_tokens: words.length, total_tokens: 5 + words.length },
          };
          finished = true;
        } finally {
          if (!finished) p.streamClosed++;
        }
      }
      return streamReply(gen());
    },
  };
  return p;
}

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** SDK tracer and meter providers with in-memory export, not registered globally. */
export function telemetry() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    /** Finished spans, after the processor delivered them (export is asynchronous). */
    async spans() {
      await tracerProvider.forceFlush();
      return spans.getFinishedSpans();
    },
    async metrics(): Promise<ResourceMetrics> {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics;
    },
  };
}
