import { type Address, type Hex, isHex } from "viem";
import { generatePrivateKey, privateKeyToAccount, publicKeyToAddress } from "viem/accounts";

/** The order of secp256k1: a private key must lie in [1, n-1]. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * A Besu node key: its private key signs QBFT messages and seals, its public key is the node id in
 * the enode URL, and its address is the validator address that WalletRegistry lists.
 */
export interface NodeKey {
  privateKey: Hex;
  /** The 64-byte uncompressed public key without the 0x04 prefix (the enode node id), 0x-prefixed. */
  publicKey: Hex;
  address: Address;
}

/** The node key behind a private key. */
export function nodeKeyFromPrivateKey(privateKey: Hex): NodeKey {
  const scalar = BigInt(privateKey);
  if (privateKey.length !== 66 || scalar === 0n || scalar >= SECP256K1_N) {
    throw new Error("a node key is a 32-byte secp256k1 scalar in [1, n-1]");
  }
  const uncompressed = privateKeyToAccount(privateKey).publicKey;
  return {
    privateKey: privateKey.toLowerCase() as Hex,
    publicKey: `0x${uncompressed.slice(4)}`.toLowerCase() as Hex,
    address: publicKeyToAddress(uncompressed),
  };
}

/** A fresh random node key. */
export function generateNodeKey(): NodeKey {
  return nodeKeyFromPrivateKey(generatePrivateKey());
}

/**
 * The text of Besu's `key` file: the private key as one line of 0x-prefixed hex, as Besu writes it
 * when it generates a key itself (it also reads the form without 0x).
 */
export function formatKeyFile(key: NodeKey): string {
  return key.privateKey;
}

/** The text of `key.pub`, as `besu public-key export` writes it: 0x + 128 hex digits. */
export function formatPublicKeyFile(key: NodeKey): string {
  return key.publicKey;
}

/** Parses a Besu `key` file (one line of hex, with or without 0x). */
export function parseKeyFile(text: string): NodeKey {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length !== 1) throw new Error("a Besu key file holds exactly one line");
  const raw = lines[0]!.trim();
  const hex = (raw.startsWith("0x") ? raw : `0x${raw}`) as Hex;
  if (!isHex(hex) || hex.length !== 66) throw new Error("a Besu key file holds 32 bytes of hex");
  return nodeKeyFromPrivateKey(hex);
}

/** The validator address of a 64-byte node public key (0x-prefixed, without the 04 prefix). */
export function addressOfPublicKey(publicKey: Hex): Address {
  if (!isHex(publicKey) || publicKey.length !== 130) throw new Error("a node public key is 64 bytes of hex");
  return publicKeyToAddress(`0x04${publicKey.slice(2)}`);
}

/**
 * The enode URL of a node: `enode://<node id>@<host>:<port>`, the node id being the public key in
 * hex without 0x. Enode hosts are IP addresses (Besu takes DNS names only with its DNS option).
 *
 * @example
 * enodeUrl(key.publicKey, "10.0.1.5", 30303); // "enode://6f8a…a0@10.0.1.5:30303"
 */
export function enodeUrl(publicKey: Hex, host: string, port: number): string {
  addressOfPublicKey(publicKey);
  return `enode://${publicKey.slice(2).toLowerCase()}@${host}:${port}`;
}

/** Splits an enode URL into node id, host and port; throws on anything else. */
export function parseEnodeUrl(url: string): { publicKey: Hex; host: string; port: number } {
  const match = /^enode:\/\/([0-9a-f]{128})@([^:@/]+):(\d{1,5})$/.exec(url);
  if (!match) throw new Error(`not an enode URL: ${url}`);
  return { publicKey: `0x${match[1]}` as Hex, host: match[2]!, port: Number(match[3]) };
}
