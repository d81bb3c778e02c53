import { describe, expect, it } from 'vitest';
import { TupleMap } from './tuple-map.js';

describe('TupleMap', () => {
  it('keys values by every part, undefined parts included, and counts distinct tuples', () => {
    const m = new TupleMap<string>();
    m.set('a', 'x', 'y');
    m.set('b', 'x', 'y', 'z');
    m.set('c', 'x', undefined, 'y');
    m.set('a2', 'x', 'y');
    expect(m.get('x', 'y')).toBe('a2');
    expect(m.get('x', 'y', 'z')).toBe('b');
    expect(m.get('x', undefined, 'y')).toBe('c');
    expect(m.get('x', 'y', 'q')).toBeUndefined();
    expect(m.size).toBe(3);
    expect([...m.values()].sort()).toEqual(['a2', 'b', 'c']);
  });
});
