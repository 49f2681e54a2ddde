import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import type { Address, Hex, PrivateKeyAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { settlementTokenAbi } from "../chain/abi/generated.ts";
import { createChainClients } from "../chain/clients.ts";
import { deployHulian } from "../chain/deploy.ts";
import { type EmbeddedChain, fundAccount, startEmbeddedChain } from "../chain/embeddedChain.ts";
import { type DeploymentManifest, writeManifest } from "../chain/manifest.ts";
import { sendAndConfirm } from "../chain/signing.ts";
import { submitMembership } from "../network/governance.ts";
import { encryptKey } from "../keys/keystore.ts";
import { walletIdOf } from "../receipts/index.ts";
import { ensurePrivateDir, writeSecretFile } from "../store/privateFiles.ts";
import { DEFAULT_DEVNET_OPERATORS, type DevnetOperatorSeed } from "./devnetOperators.ts";

export interface DevnetOptions {
  dataDir: string;
  rpcPort?: number;
  operators?: DevnetOperatorSeed[];
  /** scrypt cost for the generated keystores (tests lower it). */
  scryptN?: number;
  onProgress?: (message: string) => void;
  /**
   * Hand the governance accounts back on {@link Devnet.governance} (tests that act as the governor
   * or regulator). Off by default: the keys then live only inside {@link startDevnetChain}.
   */
  exposeGovernance?: boolean;
}

/** The devnet's governance roles, as signing viem accounts (in memory only). */
export interface DevnetGovernance {
  deployer: PrivateKeyAccount;
  governor: PrivateKeyAccount;
  issuer: PrivateKeyAccount;
  regulator: PrivateKeyAccount;
}

export interface DevnetOperator {
  code: string;
  name: string;
  walletId: Hex;
  account: Address;
  validator: Address;
  keystoreFile: string;
}

export interface Devnet {
  chain: EmbeddedChain;
  manifest: DeploymentManifest;
  manifestFile: string;
  operators: DevnetOperator[];
  /** The password of this devnet's operator keystores: handed to node processes in their environment. */
  keystorePassword: string;
  /**
   * The same password in a file (mode 0600, in the devnet's 0700 data folder), so a node can be
   * restarted by hand: `HULIAN_KEYSTORE_PASSWORD_FILE=<file> hulian node --config <wallet>.node.json`.
   * Acceptable on a devnet only; production keeps its password out of the data folder.
   */
  keystorePasswordFile: string;
  /** Present only with `exposeGovernance`. */
  governance?: DevnetGovernance;
  close(): Promise<void>;
}

/**
 * Brings up the chain side of a devnet: the embedded chain on loopback, the contracts, and the
 * operators admitted (apply → approve) with their reserves minted. Governance keys (deployer,
 * governor, issuer, regulator) exist only in this process's memory; operator keys are written as
 * encrypted keystores under `dataDir`, which is created 0700 (every secret file in it is 0600).
 */
export async function startDevnetChain(options: DevnetOptions): Promise<Devnet> {
  const say = options.onProgress ?? (() => {});
  const seeds = options.operators ?? DEFAULT_DEVNET_OPERATORS;
  await rm(options.dataDir, { recursive: true, force: true });
  await ensurePrivateDir(options.dataDir);

  say("starting the embedded chain");
  const chain = await startEmbeddedChain({ port: options.rpcPort ?? 0 });
  try {
    const governance: DevnetGovernance = {
      deployer: privateKeyToAccount(generatePrivateKey()),
      governor: privateKeyToAccount(generatePrivateKey()),
      issuer: privateKeyToAccount(generatePrivateKey()),
      regulator: privateKeyToAccount(generatePrivateKey()),
    };
    for (const account of Object.values(governance)) await fundAccount(chain, account.address);
    const deployer = createChainClients(chain.url, chain.chainId, governance.deployer);
    say("deploying the contracts");
    const manifest = await deployHulian(deployer.signer!, deployer.publicClient, {
      governor: governance.governor.address,
      issuer: governance.issuer.address,
      regulator: governance.regulator.address,
      network: "devnet",
      onStep: (s) => say(`  deploy ${s}`),
    });
    const manifestFile = path.join(options.dataDir, "deployment.json");
    await writeManifest(manifestFile, manifest);

    const keystorePassword = randomBytes(24).toString("base64url");
    const keystorePasswordFile = path.join(options.dataDir, "keystore.password");
    await writeSecretFile(keystorePasswordFile, keystorePassword + "\n", { exclusive: true });
    const governor = createChainClients(chain.url, chain.chainId, governance.governor);
    const issuer = createChainClients(chain.url, chain.chainId, governance.issuer);
    const operators: DevnetOperator[] = [];
    for (const seed of seeds) {
      say(`admitting ${seed.code}`);
      const key = generatePrivateKey();
      const account = privateKeyToAccount(key);
      const validator = privateKeyToAccount(generatePrivateKey()).address;
      const keystoreFile = path.join(options.dataDir, `${seed.code.toLowerCase()}.keystore.json`);
      await writeSecretFile(keystoreFile, await encryptKey(key, keystorePassword, { scryptN: options.scryptN ?? 1 << 14 }), { exclusive: true });
      await fundAccount(chain, account.address);
      const self = createChainClients(chain.url, chain.chainId, account);
      const walletId = walletIdOf(seed.code);
      // The same governance path as `hulian operator apply|approve`: the candidate applies, the governor approves.
      const registry = manifest.contracts.walletRegistry;
      await submitMembership(self.signer!, self.publicClient, registry, {
        action: "apply",
        wallet: seed.code,
        name: seed.name,
        validator,
        endpoint: "http://127.0.0.1:0",
      });
      await submitMembership(governor.signer!, governor.publicClient, registry, { action: "approve", wallet: seed.code });
      if (seed.reserve > 0n) {
        await sendAndConfirm(issuer.signer!, issuer.publicClient, {
          address: manifest.contracts.settlementToken,
          abi: settlementTokenAbi,
          functionName: "mint",
          args: [account.address, seed.reserve, `0x${randomBytes(32).toString("hex")}`],
        });
      }
      operators.push({ code: seed.code, name: seed.name, walletId, account: account.address, validator, keystoreFile });
    }
    const devnet: Devnet = { chain, manifest, manifestFile, operators, keystorePassword, keystorePasswordFile, close: () => chain.close() };
    if (options.exposeGovernance) devnet.governance = governance;
    return devnet;
  } catch (e) {
    await chain.close();
    throw e;
  }
}
