import type { Dispatcher } from 'undici';

/**
 * The leanest way undici offers to POST JSON and read a JSON answer: `dispatch()` with a handler that
 * collects the bytes (no Readable stream, no promise per chunk). The benchmarks run it beside the plain
 * `request()` baseline, because flowgate's providers read whole answers this way: the ratio against this
 * row shows what flowgate adds over the same transport.
 */
export function postJsonByDispatch(
  dispatcher: Dispatcher,
  url: URL,
  body: string,
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let status = 0;
    dispatcher.dispatch(
      {
        origin: url.origin,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
        body,
      },
      {
        onRequestStart: () => {},
        onResponseStart: (_c, statusCode) => {
          status = statusCode;
        },
        onResponseData: (_c, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () => {
          try {
            resolve({ status, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          } catch (err) {
            reject(err);
          }
        },
        onResponseError: (_c, err) => reject(err),
      },
    );
  });
}
