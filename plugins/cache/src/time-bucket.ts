import { ConfigError } from '@flowgate/core';

/** `night` 0–6 h, `morning` 6–12 h, `afternoon` 12–18 h, `evening` 18–24 h. */
export function partOfDay(hour: number): string {
  return hour < 6 ? 'night' : hour < 12 ? 'morning' : hour < 18 ? 'afternoon' : 'evening';
}

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * The default time bucket: date and part of day in `timeZone`, e.g. `2026-11-28-morning`.
 * Built once per time zone; computed per call only for time-sensitive requests.
 */
export function partOfDayBucket(timeZone: string): (nowMs: number) => string {
  if (timeZone === 'UTC') {
    return (nowMs) => {
      const d = new Date(nowMs);
      return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${partOfDay(d.getUTCHours())}`;
    };
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      hourCycle: 'h23',
    });
  } catch {
    throw new ConfigError(
      `cache timeZone "${timeZone}" is not a time zone this Node knows (IANA name such as Europe/Paris)`,
    );
  }
  return (nowMs) => {
    let y = 0;
    let m = 0;
    let d = 0;
    let h = 0;
    for (const p of format.formatToParts(nowMs)) {
      if (p.type === 'year') y = Number(p.value);
      else if (p.type === 'month') m = Number(p.value);
      else if (p.type === 'day') d = Number(p.value);
      else if (p.type === 'hour') h = Number(p.value);
    }
    return `${y}-${pad(m)}-${pad(d)}-${partOfDay(h)}`;
  };
}
