import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);
const solcVersion: string = require("solc/package.json").version;

/**
 * Solidity is compiled with the solc that ships in the `solc` npm package, so a
 * build never downloads a compiler. The EVM target matches the Besu QBFT
 * genesis that `hulian network init` generates (Cancun).
 */
export default defineConfig({
  solidity: {
    version: solcVersion,
    path: require.resolve("solc/soljson.js"),
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 10_000 },
      viaIR: false,
    },
  },
  networks: {
    embedded: {
      type: "edr-simulated",
      chainType: "l1",
      hardfork: "cancun",
      allowUnlimitedContractSize: false,
    },
  },
});
