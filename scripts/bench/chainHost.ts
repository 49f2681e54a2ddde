import { startDevnetChain } from "../../node/devnet/devnet.ts";
import type { DevnetOperatorSeed } from "../../node/devnet/devnetOperators.ts";

/**
 * The benchmark's chain, in a process of its own (as a validator would be): the embedded chain on
 * loopback with the contracts deployed and `operators` admitted and funded. Prints one JSON line
 * describing the devnet on stdout, then serves until stdin closes or SIGTERM arrives. Keeping the
 * chain out of the benchmark process means its JSON-RPC work never delays the load generator's
 * clock, and the peak memory of each side can be read separately.
 *
 * Usage: node scripts/bench/chainHost.ts DATA_DIR OPERATORS_JSON
 */
const [dataDir, seedsJson] = process.argv.slice(2);
const seeds = (JSON.parse(seedsJson) as { code: string; name: string; reserve: string }[]).map(
  (s): DevnetOperatorSeed => ({ code: s.code, name: s.name, reserve: BigInt(s.reserve) }),
);
const devnet = await startDevnetChain({ dataDir, operators: seeds, scryptN: 1 << 12 });
process.stdout.write(
  JSON.stringify({
    url: devnet.chain.url,
    chainId: devnet.chain.chainId,
    manifest: devnet.manifest,
    manifestFile: devnet.manifestFile,
    operators: devnet.operators,
    keystorePassword: devnet.keystorePassword,
  }) + "\n",
);
let closing = false;
const stop = async () => {
  if (closing) return;
  closing = true;
  await devnet.close();
  process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.resume();
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
