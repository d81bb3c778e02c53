import { randomUUID } from 'node:crypto';

// Call ids must be unique, not unpredictable: a random per-process prefix and a counter cost far
// less than a UUID per call.
const PREFIX = randomUUID().slice(0, 8);
let seq = 0;

export function nextCallId(): string {
  seq++;
  return `${PREFIX}-${seq.toString(36)}`;
}
