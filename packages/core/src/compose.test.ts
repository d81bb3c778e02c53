import { describe, expect, it } from 'vitest';
import { compose, type Middleware } from './compose.js';
import { ErrorCode, MiddlewareError } from './errors.js';
import { completion } from './fakes.test-util.js';
import { responseReply } from './reply.js';

describe('compose', () => {
  it('runs the first middleware outermost: first in, last out', async () => {
    const log: string[] = [];
    const mw =
      (name: string): Middleware<object> =>
      async (_ctx, next) => {
        log.push(`${name} in`);
        const r = await next();
        log.push(`${name} out`);
        return r;
      };
    const run = compose([mw('a'), mw('b'), mw('c')], async () => {
      log.push('terminal');
      return responseReply(completion('x'));
    });
    await run({});
    expect(log).toEqual(['a in', 'b in', 'c in', 'terminal', 'c out', 'b out', 'a out']);
  });

  it('rejects a second next() in the same layer', async () => {
    let terminalCalls = 0;
    const run = compose<object>(
      [
        async (_ctx, next) => {
          await next();
          return next();
        },
      ],
      async () => {
        terminalCalls++;
        return responseReply(completion('x'));
      },
    );
    const err = await run({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MiddlewareError);
    expect((err as MiddlewareError).code).toBe(ErrorCode.MIDDLEWARE);
    expect(terminalCalls).toBe(1);
  });

  it('turns a synchronous throw into a rejection', async () => {
    const run = compose<object>(
      [
        () => {
          throw new Error('sync');
        },
      ],
      async () => responseReply(completion('x')),
    );
    await expect(run({})).rejects.toThrow('sync');
  });

  it('lets a middleware answer without calling next (short-circuit)', async () => {
    let reached = false;
    const run = compose<object>([async () => responseReply(completion('cached'))], async () => {
      reached = true;
      return responseReply(completion('x'));
    });
    const r = await run({});
    expect(r.type === 'response' && r.response.choices[0]?.message.content).toBe('cached');
    expect(reached).toBe(false);
  });
});
