import { MiddlewareError } from './errors.js';
import type { Reply } from './types.js';

export type Handler<C> = (ctx: C) => Promise<Reply>;
export type Middleware<C> = (ctx: C, next: () => Promise<Reply>) => Promise<Reply>;

/**
 * Folds middleware into one handler, once, at gateway creation. The first middleware in the list
 * is the outermost layer: it runs first and sees the reply last. Calling `next()` more than once
 * in one layer rejects with `FLOWGATE_ERR_MIDDLEWARE`; a synchronous throw becomes a rejection.
 */
export function compose<C>(middleware: readonly Middleware<C>[], terminal: Handler<C>): Handler<C> {
  let handler = terminal;
  for (let i = middleware.length - 1; i >= 0; i--) {
    handler = layer(middleware[i]!, handler);
  }
  return handler;
}

function layer<C>(mw: Middleware<C>, inner: Handler<C>): Handler<C> {
  return (ctx) => {
    let called = false;
    const next = (): Promise<Reply> => {
      if (called) return Promise.reject(new MiddlewareError('next() called more than once in one middleware'));
      called = true;
      try {
        return inner(ctx);
      } catch (err) {
        return Promise.reject(err);
      }
    };
    try {
      return mw(ctx, next);
    } catch (err) {
      return Promise.reject(err);
    }
  };
}
