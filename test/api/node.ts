import { startTestNode } from "../helpers/testNode.ts";
import type { WalletService } from "../../node/bridge/walletService.ts";
import { ApiKeyStore, createApiKey, type Scope } from "../../node/api/apiKeys.ts";
import { buildOpenApi } from "../../node/api/openapi.ts";
import { createApiServer, type ApiLimits, type ApiServer } from "../../node/api/server.ts";
import { createLogger } from "../../node/observability/logger.ts";
import { registerApiDocument } from "./client.ts";

/** The node the route tests run against: a real one (test/helpers/testNode.ts), nothing mocked. */
export async function startNode(): Promise<{ service: WalletService; close(): Promise<void> }> {
  return startTestNode();
}

/** A running API over a node, with one key per kind of client and the log lines it wrote. */
export interface TestApi {
  url: string;
  server: ApiServer;
  service: WalletService;
  keys: Record<"app" | "admin" | "metrics" | "audit", string>;
  keyIds: Record<"app" | "admin" | "metrics" | "audit", string>;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts a node and the API in front of it on 127.0.0.1, port 0. */
export async function startApi(limits: Partial<ApiLimits> = {}): Promise<TestApi> {
  const node = await startNode();
  const store = new ApiKeyStore();
  const keys = {} as TestApi["keys"];
  const keyIds = {} as TestApi["keyIds"];
  for (const s of ["app", "admin", "metrics", "audit"] as const satisfies readonly Scope[]) {
    const k = createApiKey([s]);
    store.add(k.record);
    keys[s] = k.key;
    keyIds[s] = k.id;
  }
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "debug", sink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const server = createApiServer({ service: node.service, keys: store, logger, limits });
  const { url } = await server.listen(0);
  // Responses are checked against the document of the routes as they are when each call returns.
  registerApiDocument(url, () => buildOpenApi(server.routes(), { wallet: node.service.wallet.code }));
  return {
    url,
    server,
    service: node.service,
    keys,
    keyIds,
    logs,
    async close() {
      await server.close();
      await node.close();
    },
  };
}

let counter = 0;

/** A fresh Idempotency-Key. */
export function idemKey(): string {
  return `test-${process.pid}-${Date.now()}-${++counter}`;
}

/** A fresh user-name handle. */
export function freshHandle(prefix = "user"): string {
  return `${prefix}${process.pid}x${Date.now().toString(36)}x${++counter}`;
}
