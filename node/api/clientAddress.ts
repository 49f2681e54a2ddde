import { isIPv6 } from "node:net";

/**
 * The address a client is limited by: its IPv4 address (an IPv4-mapped IPv6 address counts as the
 * IPv4 one), or the /64 prefix of its IPv6 address, since one subscriber usually holds a whole /64
 * and could otherwise pick a fresh address for every request.
 *
 * @example
 * clientAddress({ remoteAddress: "::ffff:10.0.0.7" }) // "10.0.0.7"
 * clientAddress({ remoteAddress: "2001:db8:1:2:a:b:c:d" }) // "2001:db8:1:2::/64"
 */
export function clientAddress(socket: { remoteAddress?: string }): string {
  const a = socket.remoteAddress;
  if (a === undefined) return "unknown";
  if (a.startsWith("::ffff:") && a.includes(".")) return a.slice(7);
  if (!isIPv6(a)) return a;
  return `${expandIPv6(a).slice(0, 4).join(":")}::/64`;
}

/** The eight groups of an IPv6 address, without leading zeros. */
function expandIPv6(address: string): string[] {
  const plain = address.split("%")[0];
  const [head, tail] = plain.includes("::") ? plain.split("::") : [plain, undefined];
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return groups.map((g) => (g.includes(".") ? g : (Number.parseInt(g, 16) || 0).toString(16)));
}
