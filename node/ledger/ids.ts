import { randomBytes } from "node:crypto";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let out = "";
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

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
    lastRandom = Array.from(randomBytes(16), (b) => b & 31);
  }
  return encodeTime(now) + lastRandom.map((d) => CROCKFORD[d]).join("");
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
