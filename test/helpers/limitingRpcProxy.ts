import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

interface RpcCall {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: unknown[];
}

/** Besu's limits, as the proxy enforces them. */
export interface RpcLimits {
  /** `rpc-max-logs-range`: widest `eth_getLogs` block span. Besu's default 5,000. */
  maxLogsRange?: number;
  /** `rpc-http-max-active-connections`: sockets open at once; one more is closed at once. */
  maxConnections?: number;
  /** Bonsai's `bonsai-historical-block-limit`: state older than this many blocks below the head is gone. Unset: archive. */
  stateHistoryBlocks?: number;
}

/** What the proxy saw. A test asserts the refusals stayed at zero and the peaks within the limits. */
export interface RpcProxyStats {
  requests: number;
  getLogsCalls: number;
  widestLogSpan: number;
  refusedLogRanges: number;
  openConnections: number;
  peakConnections: number;
  refusedConnections: number;
  refusedStateReads: number;
}

export interface LimitingRpcProxy {
  url: string;
  stats: RpcProxyStats;
  close(): Promise<void>;
}

const STATE_METHODS: Record<string, number> = { eth_call: 1, eth_getBalance: 1, eth_getCode: 1, eth_getStorageAt: 2, eth_getProof: 2 };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/**
 * A JSON-RPC endpoint on 127.0.0.1 in front of an in-process chain that refuses what Besu refuses
 * with its default settings: `eth_getLogs` over more than `maxLogsRange` blocks (-32005, as Besu
 * answers), more than `maxConnections` sockets at once (the extra socket is closed, as Besu's HTTP
 * server does), and — when `stateHistoryBlocks` is set — state reads below the retained window
 * ("World state unavailable", -32000). Everything else goes to the chain unchanged.
 *
 * @example
 * const proxy = await startLimitingRpcProxy(provider, { maxLogsRange: 5_000, maxConnections: 16 });
 */
export async function startLimitingRpcProxy(provider: Eip1193, limits: RpcLimits = {}): Promise<LimitingRpcProxy> {
  const maxLogsRange = limits.maxLogsRange ?? 5_000;
  const maxConnections = limits.maxConnections ?? 80;
  const stats: RpcProxyStats = {
    requests: 0,
    getLogsCalls: 0,
    widestLogSpan: 0,
    refusedLogRanges: 0,
    openConnections: 0,
    peakConnections: 0,
    refusedConnections: 0,
    refusedStateReads: 0,
  };
  const head = async () => BigInt((await provider.request({ method: "eth_blockNumber", params: [] })) as string);
  const blockOf = async (tag: unknown, latest: () => Promise<bigint>): Promise<bigint> => {
    if (tag === undefined || tag === "latest" || tag === "pending" || tag === "safe" || tag === "finalized") return latest();
    if (tag === "earliest") return 0n;
    if (typeof tag === "string") return BigInt(tag);
    if (tag && typeof tag === "object" && "blockNumber" in tag) return BigInt((tag as { blockNumber: string }).blockNumber);
    return latest();
  };

  async function refusal(call: RpcCall): Promise<{ code: number; message: string } | undefined> {
    const params = call.params ?? [];
    if (call.method === "eth_getLogs") {
      stats.getLogsCalls++;
      const filter = (params[0] ?? {}) as { fromBlock?: string; toBlock?: string; blockHash?: string };
      if (filter.blockHash) return undefined;
      const from = await blockOf(filter.fromBlock, head);
      const to = await blockOf(filter.toBlock, head);
      const span = Number(to - from + 1n);
      if (span > stats.widestLogSpan) stats.widestLogSpan = span;
      if (span > maxLogsRange) {
        stats.refusedLogRanges++;
        return { code: -32005, message: "Requested range exceeds maximum RPC range limit" };
      }
    }
    const at = call.method ? STATE_METHODS[call.method] : undefined;
    if (at !== undefined && limits.stateHistoryBlocks !== undefined) {
      const latest = await head();
      const block = await blockOf(params[at], async () => latest);
      if (block < latest - BigInt(limits.stateHistoryBlocks)) {
        stats.refusedStateReads++;
        return { code: -32000, message: "World state unavailable" };
      }
    }
    return undefined;
  }

  async function handle(call: RpcCall): Promise<object> {
    stats.requests++;
    const id = call?.id ?? null;
    if (typeof call?.method !== "string") return { jsonrpc: "2.0", id, error: { code: -32600, message: "invalid request" } };
    const refused = await refusal(call);
    if (refused) return { jsonrpc: "2.0", id, error: refused };
    try {
      const result = await provider.request({ method: call.method, params: Array.isArray(call.params) ? call.params : [] });
      return { jsonrpc: "2.0", id, result: result ?? null };
    } catch (e) {
      const err = e as { code?: number; message?: string; data?: unknown };
      return { jsonrpc: "2.0", id, error: { code: typeof err.code === "number" ? err.code : -32603, message: err.message ?? String(e), data: err.data } };
    }
  }

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let payload: unknown;
    try {
      payload = JSON.parse(await readBody(req));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const reply = Array.isArray(payload) ? await Promise.all(payload.map((c) => handle(c as RpcCall))) : await handle(payload as RpcCall);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(reply, (_k, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v)));
  });
  server.on("connection", (socket: Socket) => {
    if (stats.openConnections >= maxConnections) {
      stats.refusedConnections++;
      socket.destroy();
      return;
    }
    stats.openConnections++;
    if (stats.openConnections > stats.peakConnections) stats.peakConnections = stats.openConnections;
    socket.once("close", () => stats.openConnections--);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
