/**
 * `String.prototype` methods as plain functions, for the loops that scan text character by character.
 *
 * Why: once any module of the process subclasses `String` (`@redis/client` does, for its RESP
 * `VerbatimString`) or creates an object from `String.prototype`, V8 no longer inlines
 * `text.charCodeAt(i)` and friends as method calls: a character loop ran 5-7x slower in Node 24
 * (inikulin/parse5#1348 reports the same effect). Called through these functions the builtins keep
 * their speed, whatever else the process loads.
 */
const call = Function.prototype.call;

export const charCodeAt = call.bind(String.prototype.charCodeAt) as (text: string, index: number) => number;
export const slice = call.bind(String.prototype.slice) as (text: string, start: number, end?: number) => string;
