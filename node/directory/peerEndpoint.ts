import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

/** Which peer endpoints this node will call. */
export interface PeerEndpointPolicy {
  /** Allow loopback addresses (127.0.0.0/8, ::1, `localhost`): devnets and tests only. */
  allowLoopback?: boolean;
  /** Allow plain `http:` (no TLS). Default: as `allowLoopback`. */
  allowHttp?: boolean;
  /** Allow private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): a network on a private link. */
  allowPrivateNetworks?: boolean;
  /** Host name → addresses; default the system resolver (every address must pass). */
  resolveHost?: (host: string) => Promise<string[]>;
}

/** What kind of address a peer endpoint points at. */
export type AddressClass = "public" | "loopback" | "private" | "forbidden";

/** A member's published endpoint that this node refuses to call, and why (for the operator's log, never a customer). */
export class PeerEndpointError extends Error {
  override name = "PeerEndpointError";
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

type Range = readonly [base: number, bits: number, cls: Exclude<AddressClass, "public">];

/** IPv4 ranges that are not the public internet (RFC 6890 and friends). */
const IPV4_RANGES: readonly Range[] = [
  [ipv4("0.0.0.0"), 8, "forbidden"],
  [ipv4("10.0.0.0"), 8, "private"],
  [ipv4("100.64.0.0"), 10, "private"],
  [ipv4("127.0.0.0"), 8, "loopback"],
  [ipv4("169.254.0.0"), 16, "forbidden"],
  [ipv4("172.16.0.0"), 12, "private"],
  [ipv4("192.0.0.0"), 24, "forbidden"],
  [ipv4("192.0.2.0"), 24, "forbidden"],
  [ipv4("192.88.99.0"), 24, "forbidden"],
  [ipv4("192.168.0.0"), 16, "private"],
  [ipv4("198.18.0.0"), 15, "forbidden"],
  [ipv4("198.51.100.0"), 24, "forbidden"],
  [ipv4("203.0.113.0"), 24, "forbidden"],
  [ipv4("224.0.0.0"), 4, "forbidden"],
  [ipv4("240.0.0.0"), 4, "forbidden"],
];

function ipv4(text: string): number {
  return text.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function classifyIpv4(text: string): AddressClass {
  const n = ipv4(text);
  for (const [base, bits, cls] of IPV4_RANGES) {
    const size = 2 ** (32 - bits);
    if (n >= base && n < base + size) return cls;
  }
  return "public";
}

/** The eight 16-bit groups of an IPv6 address (with an embedded dotted IPv4 tail expanded). */
function ipv6Groups(text: string): number[] {
  let s = text.toLowerCase();
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const n = ipv4(dotted[1]);
    s = `${s.slice(0, dotted.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.split("::");
  const h = head ? head.split(":") : [];
  const t = tail === undefined ? [] : tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => Number.parseInt(g, 16));
}

function classifyIpv6(text: string): AddressClass {
  const g = ipv6Groups(text);
  const embedded = () => `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(8)) return "forbidden"; // ::
  if (zeros(7) && g[7] === 1) return "loopback"; // ::1
  if (zeros(5) && g[5] === 0xffff) return classifyIpv4(embedded()); // ::ffff:a.b.c.d, IPv4-mapped
  if (zeros(6)) return classifyIpv4(embedded()); // ::a.b.c.d, IPv4-compatible (deprecated)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyIpv4(embedded()); // NAT64
  if (g[0] === 0x2002) return classifyIpv4(`${g[1] >> 8}.${g[1] & 255}.${g[2] >> 8}.${g[2] & 255}`); // 6to4
  if ((g[0] & 0xfe00) === 0xfc00) return "private"; // fc00::/7, unique local
  if ((g[0] & 0xffc0) === 0xfe80) return "forbidden"; // fe80::/10, link-local
  if ((g[0] & 0xffc0) === 0xfec0) return "forbidden"; // fec0::/10, site-local (deprecated)
  if ((g[0] & 0xff00) === 0xff00) return "forbidden"; // ff00::/8, multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "forbidden"; // documentation
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return "forbidden"; // discard-only
  return "public";
}

/** Which kind of address `address` (an IPv4 or IPv6 literal) is. */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address);
  if (family === 4) return classifyIpv4(address);
  if (family === 6) return classifyIpv6(address);
  return "forbidden";
}

function allowed(cls: AddressClass, policy: PeerEndpointPolicy): boolean {
  return cls === "public" || (cls === "loopback" && policy.allowLoopback === true) || (cls === "private" && policy.allowPrivateNetworks === true);
}

async function systemResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

/**
 * Checks a member's published endpoint before this node sends it anything: `https:` (plain
 * `http:` only with `allowHttp`, which `allowLoopback`, i.e. a devnet, implies), no credentials in the URL, and every
 * address the host name resolves to outside loopback, private, link-local, multicast and reserved
 * ranges (IPv4, IPv6 and IPv4-mapped IPv6) unless the policy allows loopback or private ranges.
 * Throws {@link PeerEndpointError}; returns the parsed URL.
 *
 * Why: WalletRegistry lets each member publish any string, and a node that POSTs to it would
 * otherwise reach hosts and ports inside its own network on a member's behalf.
 */
export async function checkPeerEndpoint(endpoint: string, policy: PeerEndpointPolicy = {}): Promise<URL> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new PeerEndpointError("invalid_url", "the published endpoint is not a URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && (policy.allowHttp ?? policy.allowLoopback) === true)) {
    throw new PeerEndpointError("scheme_refused", `the published endpoint uses ${url.protocol}; only https: is called`);
  }
  if (url.username !== "" || url.password !== "") throw new PeerEndpointError("credentials_in_url", "the published endpoint carries credentials");
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else if (host === "localhost" || host.endsWith(".localhost")) addresses = ["127.0.0.1"];
  else {
    addresses = await (policy.resolveHost ?? systemResolve)(host).catch(() => []);
    if (addresses.length === 0) throw new PeerEndpointError("unresolvable", "the published endpoint's host does not resolve");
  }
  for (const address of addresses) {
    const cls = classifyAddress(address);
    if (!allowed(cls, policy)) throw new PeerEndpointError(`${cls}_address`, `the published endpoint points at a ${cls} address (${address})`);
  }
  return url;
}
