import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, test } from "vitest";
import { ConcurrencyQueueFullError, Semaphore, limitedFetch, mapConcurrent } from "../../node/chain/concurrency.ts";
import { getLogsPaged, logSpan } from "../../node/chain/getLogsPaged.ts";

const tick = () => new Promise((r) => setImmediate(r));

describe("concurrency limits", () => {
  test("default: a semaphore never runs more than its limit and serves waiters in order", async () => {
    const gate = new Semaphore(3);
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gate.run(async () => {
          order.push(i);
          await tick();
        }),
      ),
    );
    expect(gate.peak).toBe(3);
    expect(gate.active).toBe(0);
    expect(order).toEqual([...Array(20).keys()]);
  });

  test("error: a semaphore refuses work beyond its waiting limit", async () => {
    const gate = new Semaphore(1, 2);
    let release!: () => void;
    const held = gate.run(() => new Promise<void>((r) => (release = r)));
    const queued = [gate.run(async () => 1), gate.run(async () => 2)];
    await expect(gate.run(async () => 3)).rejects.toBeInstanceOf(ConcurrencyQueueFullError);
    release();
    await held;
    expect(await Promise.all(queued)).toEqual([1, 2]);
  });

  test("behavior: mapConcurrent keeps input order and at most `limit` calls in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapConcurrent([...Array(100).keys()], 7, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await tick();
      inFlight--;
      return n * 2;
    });
    expect(out).toEqual([...Array(100).keys()].map((n) => n * 2));
    expect(peak).toBe(7);
  });

  test("behavior: limitedFetch keeps at most `max` HTTP requests (and sockets) open against a server", async () => {
    let open = 0;
    let peak = 0;
    let sockets = 0;
    const server = createServer((_req, res) => {
      peak = Math.max(peak, ++open);
      setTimeout(() => {
        open--;
        res.end("ok");
      }, 5);
    });
    server.on("connection", () => sockets++);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const fetchFn = limitedFetch(4);
      const bodies = await Promise.all(Array.from({ length: 40 }, () => fetchFn(url).then((r) => r.text())));
      expect(bodies.every((b) => b === "ok")).toBe(true);
      expect(peak).toBeLessThanOrEqual(4);
      expect(fetchFn.gate.peak).toBe(4);
      // Keep-alive: the 40 requests reuse connections instead of opening one each.
      expect(sockets).toBeLessThan(40);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("eth_getLogs paging", () => {
  test("default: a range is split into spans of at most 5,000 blocks, in order, without gaps or overlaps", async () => {
    const asked: [bigint, bigint][] = [];
    const client = {
      request: async ({ params }: { params: [{ fromBlock: string; toBlock: string }] }) => {
        asked.push([BigInt(params[0].fromBlock), BigInt(params[0].toBlock)]);
        return [{ from: params[0].fromBlock }];
      },
    };
    const logs = await getLogsPaged(client as never, { address: "0x0000000000000000000000000000000000000001" }, 10n, 12_010n);
    expect(asked).toEqual([
      [10n, 5_009n],
      [5_010n, 10_009n],
      [10_010n, 12_010n],
    ]);
    expect(logs).toHaveLength(3);
  });

  test("error: a span below one block is refused", () => {
    expect(() => logSpan(0)).toThrow("an eth_getLogs span is at least 1 block, not 0");
  });
});
