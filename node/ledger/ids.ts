import { randomFillSync } from "node:crypto";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** Random bytes are drawn from a pool refilled 256 ids at a time: one `randomBytes` call per id cost more than the rest of the id. */
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;
let lastTime = -1;
const lastRandom = new Uint8Array(16);

/**
 * A unique, time-sortable id (ULID layout: 48-bit millisecond time + 80
 * random bits, Crockford base32). Ids made within the same millisecond by
 * this process increase monotonically.
 */
export function sortableId(now: number = Date.now()): string {
  if (now <= lastTime) {
    // Same (or earlier, if the clock stepped back) millisecond: increment the
    // random part so ordering still follows creation order.
    let i = lastRandom.length - 1;
    while (i >= 0 && lastRandom[i] === 31) lastRandom[i--] = 0;
    if (i >= 0) lastRandom[i]++;
    now = lastTime;
  } else {
    lastTime = now;
    if (poolAt + 16 > POOL.length) {
      randomFillSync(POOL);
      poolAt = 0;
    }
    for (let i = 0; i < 16; i++) lastRandom[i] = POOL[poolAt++] & 31;
  }
  let time = "";
  for (let i = 0, ms = now; i < 10; i++, ms = Math.floor(ms / 32)) time = CROCKFORD[ms % 32] + time;
  let rand = "";
  for (let i = 0; i < 16; i++) rand += CROCKFORD[lastRandom[i]];
  return time + rand;
}

/**
 * A new customer account id: `c_` followed by a {@link sortableId}.
 *
 * @example
 * newCustomerId() // "c_01J9Z4Q8W5N3V6XK2T7RBMDFHC"
 */
export function newCustomerId(now?: number): string {
  return `c_${sortableId(now)}`;
}
