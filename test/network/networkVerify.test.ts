import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { toRlp } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LOG_SPAN_BLOCKS } from "../../node/chain/getLogsPaged.ts";
import { readComposeServices, effectiveBesuOption } from "../../node/network/dockerCompose.ts";
import type { BesuGenesis } from "../../node/network/genesis.ts";
import { type InitNetworkResult, initNetwork } from "../../node/network/initNetwork.ts";
import { NetworkCheckError, tomlScalar, verifyNetwork } from "../../node/network/verifyNetwork.ts";

/**
 * `hulian network verify` against each Besu defect of issue 18: the generated folder passes, and a
 * copy with one defect put back fails on the check that names it.
 */
const CODES = ["ALIPAY", "WECHAT", "UNIONPAY", "YUNPAY"];

let root: string;
let dir: string;
let net: InitNetworkResult;
let copies = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "hulian-verify-"));
  dir = path.join(root, "net");
  net = await initNetwork({ operators: CODES.map((code) => ({ code })), outDir: dir, password: "verify-test", scryptN: 1 << 10 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const read = (p: string) => readFile(path.join(dir, p), "utf8");

/** A copy of the generated network with `change` applied; verify's failure (or undefined). */
async function verifyChanged(change: (copy: string) => Promise<void>): Promise<NetworkCheckError | undefined> {
  const copy = path.join(root, `copy-${++copies}`);
  await cp(dir, copy, { recursive: true });
  await change(copy);
  try {
    await verifyNetwork(copy);
    return undefined;
  } catch (e) {
    if (e instanceof NetworkCheckError) return e;
    throw e;
  }
}

const edit = async (file: string, f: (text: string) => string) => writeFile(file, f(await readFile(file, "utf8")));
const alipay = () => net.description.operators[0]!;

/** Rewrites genesis.json and every node's copy (verify compares them). */
async function editGenesis(copy: string, f: (g: BesuGenesis) => void): Promise<void> {
  const g = JSON.parse(await readFile(path.join(copy, "genesis.json"), "utf8")) as BesuGenesis;
  f(g);
  const text = JSON.stringify(g, null, 2) + "\n";
  await writeFile(path.join(copy, "genesis.json"), text);
  for (const op of net.description.operators) await writeFile(path.join(copy, op.besuDir, "genesis.json"), text);
}

describe("hulian network init: what Besu needs", () => {
  it("default: JSON-RPC stays on loopback under Docker: compose sets the host above the image's 0.0.0.0", async () => {
    for (const file of ["docker-compose.yml", alipay().composeFile]) {
      const service = readComposeServices(await read(file)).get("besu-alipay")!;
      expect(service.command).toContain("--rpc-http-host=127.0.0.1");
      expect(service.environment.BESU_RPC_HTTP_HOST).toBe("127.0.0.1");
      expect(effectiveBesuOption(service, "rpc-http-host", "127.0.0.1")).toBe("127.0.0.1");
    }
  });

  it("behavior: each operator's folder holds a compose file for its own validator, mounting ./besu", async () => {
    for (const op of net.description.operators) {
      expect(op.composeFile).toBe(`operators/${op.code.toLowerCase()}/docker-compose.yml`);
      const services = readComposeServices(await read(op.composeFile));
      expect([...services.keys()]).toEqual([`besu-${op.code.toLowerCase()}`]);
      expect(services.get(`besu-${op.code.toLowerCase()}`)!.volumes).toEqual(["./besu:/hulian/besu"]);
    }
  });

  it("behavior: config.toml asks for archive state and writes out Besu's log-range and connection limits", async () => {
    for (const op of net.description.operators) {
      const toml = await read(`${op.besuDir}/config.toml`);
      expect(tomlScalar(toml, "data-storage-format")).toBe("FOREST");
      expect(tomlScalar(toml, "rpc-max-logs-range")).toBe(String(DEFAULT_LOG_SPAN_BLOCKS));
      expect(tomlScalar(toml, "rpc-http-max-active-connections")).toBe("80");
    }
  });

  it("behavior: hulian network verify passes and names every check", async () => {
    expect(await verifyNetwork(dir)).toEqual([
      "genesis fields",
      "extraData",
      "keys, configs and allowlists",
      "archive state and Besu's log-range and connection limits",
      "docker compose: one file per operator, JSON-RPC on loopback under Docker, Besu version",
      "batch gas within the per-transaction cap and the block gas limit",
      "genesis alloc: getValidators, operators, token and hub wiring",
    ]);
  });
});

describe("hulian network verify: each defect put back fails", () => {
  it("error: a compose service that leaves the image's BESU_RPC_HTTP_HOST=0.0.0.0 in force", async () => {
    const failure = await verifyChanged((copy) =>
      edit(path.join(copy, "docker-compose.yml"), (t) =>
        t.replace(/    environment:\n(      - .*\n)+/g, "").replace(/, "--rpc-http-host=127\.0\.0\.1"/g, ""),
      ),
    );
    expect(failure?.check).toBe("docker-compose.yml:besu-alipay.rpc-http-host");
    expect(failure?.message).toContain("JSON-RPC would listen on 0.0.0.0 under Docker");
  });

  it("error: an operator's compose file that sets the host in the environment to 0.0.0.0", async () => {
    const failure = await verifyChanged((copy) => edit(path.join(copy, alipay().composeFile), (t) => t.replace(/--rpc-http-host=127\.0\.0\.1/, "--rpc-http-host=0.0.0.0")));
    expect(failure?.check).toBe("operators/alipay/docker-compose.yml:besu-alipay.rpc-http-host");
  });

  it("error: no rpc-max-logs-range, or one below the readers' span", async () => {
    const missing = await verifyChanged((copy) => edit(path.join(copy, alipay().besuDir, "config.toml"), (t) => t.replace(/^rpc-max-logs-range=.*\n/m, "")));
    expect(missing?.check).toBe("ALIPAY.rpc-max-logs-range");
    const small = await verifyChanged((copy) => edit(path.join(copy, alipay().besuDir, "config.toml"), (t) => t.replace(/^rpc-max-logs-range=.*$/m, "rpc-max-logs-range=1000")));
    expect(small?.message).toContain("at least 5000, the span Hulian's log readers page by (got 1000)");
  });

  it("error: Bonsai storage (512 blocks of state) instead of archive", async () => {
    const failure = await verifyChanged((copy) => edit(path.join(copy, alipay().besuDir, "config.toml"), (t) => t.replace(/^data-storage-format=.*\n/m, "")));
    expect(failure?.check).toBe("ALIPAY.data-storage-format");
    expect(failure?.message).toContain("not Besu's default BONSAI");
  });

  it("error: a connection limit too small for the node, the explorer and an auditor", async () => {
    const failure = await verifyChanged((copy) =>
      edit(path.join(copy, alipay().besuDir, "config.toml"), (t) => t.replace(/^rpc-http-max-active-connections=.*$/m, "rpc-http-max-active-connections=20")),
    );
    expect(failure?.check).toBe("ALIPAY.rpc-http-max-active-connections");
  });

  it("error: the previously pinned Besu 25.1.0", async () => {
    const failure = await verifyChanged((copy) => edit(path.join(copy, "docker-compose.yml"), (t) => t.replaceAll("hyperledger/besu:26.9.0", "hyperledger/besu:25.1.0")));
    expect(failure?.check).toBe("docker-compose.yml:besu-alipay.image");
    expect(failure?.message).toContain("Besu 25.1.0 is older than 26.8.1");
  });

  it("error: an add vote written as 0x01 (Besu writes 0xff)", async () => {
    const failure = await verifyChanged((copy) =>
      editGenesis(copy, (g) => {
        g.extraData = toRlp([`0x${"00".repeat(32)}`, [], [alipay().validator.toLowerCase() as `0x${string}`, "0x01"], "0x", []]);
      }),
    );
    expect(failure?.check).toBe("extraData");
    expect(failure?.message).toContain("add (0xff) or drop (0x00), not 0x01");
  });

  it("error: only the root compose file, none in an operator's folder", async () => {
    const failure = await verifyChanged((copy) => rm(path.join(copy, alipay().composeFile)));
    expect(failure?.check).toBe("ALIPAY.compose");
  });

  it("error: a per-transaction gas cap below the largest batch's allowance", async () => {
    const failure = await verifyChanged((copy) =>
      editGenesis(copy, (g) => {
        (g.config.qbft as Record<string, unknown>).pertxgaslimit = 10_000_000;
      }),
    );
    expect(failure?.check).toBe("batch.gas");
    expect(failure?.message).toContain("a 2048-transfer batch is sent with 16684000 gas, above the cap 10000000");
  });
});
