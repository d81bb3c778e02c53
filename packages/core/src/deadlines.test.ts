import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeadlineEntry } from './deadlines.js';

/** A fresh copy of the module per test: its ticker and lists are module state. */
async function fresh() {
  vi.resetModules();
  return import('./deadlines.js');
}

function entry(): DeadlineEntry & { expired: number } {
  return {
    dueAt: 0,
    deadlinePrev: undefined,
    deadlineNext: undefined,
    deadlineList: undefined,
    expired: 0,
    expire() {
      this.expired++;
    },
  };
}

describe('coarse deadlines', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('keeps one interval for calls made one after another, and stops it a tick after the last one left', async () => {
    const { addDeadline, removeDeadline } = await fresh();
    const setInterval = vi.spyOn(globalThis, 'setInterval');
    const clearInterval = vi.spyOn(globalThis, 'clearInterval');
    for (let i = 0; i < 5; i++) {
      const e = entry();
      addDeadline(e, 60_000);
      removeDeadline(e);
    }
    expect(setInterval).toHaveBeenCalledTimes(1);
    expect(clearInterval).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(150);
    expect(clearInterval).toHaveBeenCalledTimes(1);
    const later = entry();
    addDeadline(later, 60_000);
    expect(setInterval).toHaveBeenCalledTimes(2);
    removeDeadline(later);
  });

  it('fires an entry added after the ticker went idle, when it is due and not before', async () => {
    const { addDeadline, removeDeadline } = await fresh();
    const gone = entry();
    addDeadline(gone, 40_000);
    removeDeadline(gone);
    const due = entry();
    addDeadline(due, 40_000);
    await vi.advanceTimersByTimeAsync(39_900);
    expect(due.expired).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(due.expired).toBe(1);
    expect(gone.expired).toBe(0);
  });
});
