import { describe, expect, it } from 'vitest';
import { type RecencyLinks, RecencyList } from './recency-list.js';

interface Item extends RecencyLinks<Item> {
  name: string;
}

const item = (name: string): Item => ({ name, older: undefined, newer: undefined });

function order(list: RecencyList<Item>): string[] {
  const names: string[] = [];
  for (let i = list.oldest; i !== undefined; i = i.newer) names.push(i.name);
  // The links agree both ways.
  const back: string[] = [];
  for (let i = list.newest; i !== undefined; i = i.older) back.push(i.name);
  expect(back.reverse()).toEqual(names);
  return names;
}

describe('RecencyList', () => {
  it('keeps items least recently used first through appends, touches and unlinks', () => {
    const list = new RecencyList<Item>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(item) as [Item, Item, Item, Item];
    expect(order(list)).toEqual([]);
    for (const i of [a, b, c, d]) list.append(i);
    expect(order(list)).toEqual(['a', 'b', 'c', 'd']);
    list.touch(b);
    list.touch(b); // already the newest: nothing moves
    list.touch(a);
    expect(order(list)).toEqual(['c', 'd', 'b', 'a']);
    list.unlink(d); // from the middle
    list.unlink(c); // the oldest
    list.unlink(a); // the newest
    expect(order(list)).toEqual(['b']);
    expect([list.oldest?.name, list.newest?.name]).toEqual(['b', 'b']);
    list.unlink(b);
    expect([list.oldest, list.newest]).toEqual([undefined, undefined]);
    list.append(c);
    list.clear();
    expect(order(list)).toEqual([]);
  });
});
