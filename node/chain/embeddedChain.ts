import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createHardhatRuntimeEnvironment } from "hardhat/hre";
import { METHOD_NOT_ALLOWED_CODE, isPublicRpcMethod } from "./publicRpcMethods.ts";

/** The embedded chain's default id ("HL" in ASCII: 0x484c). */
export const EMBEDDED_CHAIN_ID = 18508;

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Requests in one JSON-RPC batch: a batch is answered whole, so its size bounds one reply's work and memory. */
const MAX_BATCH_REQUESTS = 1_000;

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

interface JsonRpcRequest {
  jsonrpc?: string;
  id?: string | number | null;
  method?: unknown;
  params?: unknown;
}

export interface EmbeddedChain {
  /** JSON-RPC URL on loopback, e.g. http://127.0.0.1:8545 */
  readonly url: string;
  readonly chainId: number;
  /**
   * The in-process provider, with every method the simulator has (cheats such as
   * `hardhat_setBalance` included): for tests and the devnet's own set-up. The HTTP endpoint at
   * {@link url} serves only the standard methods (see publicRpcMethods.ts).
   */
  readonly provider: Eip1193;
  /** Closes the JSON-RPC listener but keeps the chain state (an RPC outage). */
  stopRpc(): Promise<void>;
  /** Opens the listener again on the same port. */
  startRpc(): Promise<void>;
  close(): Promise<void>;
}

export interface EmbeddedChainOptions {
  port?: number;
  host?: string;
  chainId?: number;
  /** Seconds between blocks; 0 (default) mines a block per transaction, like QBFT's instant finality. */
  blockTime?: number;
}

async function handle(provider: Eip1193, body: JsonRpcRequest): Promise<object> {
  const id = body?.id ?? null;
  if (typeof body?.method !== "string") {
    return { jsonrpc: "2.0", id, error: { code: -32600, message: "invalid request" } };
  }
  if (!isPublicRpcMethod(body.method)) {
    return { jsonrpc: "2.0", id, error: { code: METHOD_NOT_ALLOWED_CODE, message: `method not allowed: ${body.method.slice(0, 64)}` } };
  }
  try {
    const params = Array.isArray(body.params) ? body.params : [];
    const result = await provider.request({ method: body.method, params });
    return { jsonrpc: "2.0", id, result: result ?? null };
  } catch (e) {
    const err = e as { code?: number; message?: string; data?: unknown };
    return {
      jsonrpc: "2.0",
      id,
      error: { code: typeof err.code === "number" ? err.code : -32603, message: err.message ?? String(e), data: err.data },
    };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("request too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function rpcHandler(provider: Eip1193) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "POST") {
      res.writeHead(405, { Allow: "POST" }).end();
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(await readBody(req));
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } }));
      return;
    }
    if (Array.isArray(payload) && payload.length > MAX_BATCH_REQUESTS) {
      res.writeHead(413, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32600, message: `a batch holds at most ${MAX_BATCH_REQUESTS} requests` } }));
      return;
    }
    const reply = Array.isArray(payload)
      ? await Promise.all(payload.map((item) => handle(provider, item as JsonRpcRequest)))
      : await handle(provider, payload as JsonRpcRequest);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(reply, (_k, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v)));
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts an EVM chain inside this process (Hardhat's EDR simulator, Cancun rules) and serves its
 * JSON-RPC over HTTP on loopback, so operator nodes, the explorer and auditors reach it exactly as
 * they reach a Besu node. No account is unlocked and the endpoint serves only the standard methods:
 * every transaction arrives signed through `eth_sendRawTransaction`, and no simulator cheat
 * (impersonation, balances, time travel) is reachable from another process. Block timestamps
 * follow the wall clock, as a QBFT chain's do: several blocks may share a second, where the
 * simulator's default (one second more per block) runs ahead of real time under load.
 *
 * @example
 * const chain = await startEmbeddedChain({ port: 0 });
 * console.log(chain.url); // http://127.0.0.1:40123
 */
export async function startEmbeddedChain(options: EmbeddedChainOptions = {}): Promise<EmbeddedChain> {
  const host = options.host ?? "127.0.0.1";
  const chainId = options.chainId ?? EMBEDDED_CHAIN_ID;
  const blockTime = options.blockTime ?? 0;
  const hre = await createHardhatRuntimeEnvironment(
    {
      networks: {
        embedded: {
          type: "edr-simulated",
          chainType: "l1",
          hardfork: "cancun",
          chainId,
          accounts: [],
          blockGasLimit: 200_000_000,
          allowBlocksWithSameTimestamp: true,
          mining: blockTime > 0 ? { auto: false, interval: blockTime * 1000 } : { auto: true, interval: 0 },
        },
      },
    },
    {},
    PROJECT_ROOT,
  );
  const connection = await hre.network.create("embedded");
  const provider = connection.provider as unknown as Eip1193;
  let server = createServer(rpcHandler(provider));
  server.keepAliveTimeout = 60_000;
  const port = await listen(server, options.port ?? 0, host);
  let open = true;

  return {
    url: `http://${host}:${port}`,
    chainId,
    provider,
    async stopRpc() {
      if (!open) return;
      open = false;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async startRpc() {
      if (open) return;
      server = createServer(rpcHandler(provider));
      server.keepAliveTimeout = 60_000;
      await listen(server, port, host);
      open = true;
    },
    async close() {
      if (open) {
        open = false;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await connection.close();
    },
  };
}

/** Gives `address` a large native balance on the embedded chain, so it can pay for gas. */
export async function fundAccount(chain: EmbeddedChain, address: string, wei = 10n ** 24n): Promise<void> {
  await chain.provider.request({ method: "hardhat_setBalance", params: [address, `0x${wei.toString(16)}`] });
}
