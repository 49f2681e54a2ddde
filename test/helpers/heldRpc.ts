import { type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A JSON-RPC endpoint on 127.0.0.1 that holds every request until {@link HeldRpc.release}, then
 * answers it (and every later one) with HTTP 503: to viem a chain that cannot be reached. A test
 * uses the hold to act while a loop's call is certainly in flight, e.g. to `stop()` it there.
 */
export interface HeldRpc {
  url: string;
  /** Requests received so far. */
  readonly requests: number;
  /** Answers the held requests, and every later one at once, with 503. */
  release(): void;
  close(): Promise<void>;
}

/** Starts a {@link HeldRpc}. */
export async function startHeldRpc(): Promise<HeldRpc> {
  const held: ServerResponse[] = [];
  let released = false;
  let requests = 0;
  const refuse = (res: ServerResponse) => res.writeHead(503, { "content-type": "text/plain", connection: "close" }).end("unavailable");
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume();
    if (released) refuse(res);
    else held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const release = () => {
    released = true;
    for (const res of held.splice(0)) refuse(res);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    release,
    async close() {
      release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
