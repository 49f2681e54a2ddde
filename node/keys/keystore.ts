import { readFile, writeFile } from "node:fs/promises";
import { decryptKeystoreJson, encryptKeystoreJson, isKeystoreJson } from "ethers";
import type { Address, Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

/** Why a keystore could not be opened; never carries the password or key. */
export class KeystoreError extends Error {
  override name = "KeystoreError";
}

export interface KeystoreOptions {
  /** scrypt cost (power of two). Default 2^17, the Web3 Secret Storage standard's. */
  scryptN?: number;
}

/**
 * Encrypts a private key into a Web3 Secret Storage (v3) JSON keystore with scrypt — the format
 * Besu, geth and every wallet read.
 */
export async function encryptKey(privateKey: Hex, password: string, options: KeystoreOptions = {}): Promise<string> {
  if (password.length < 8) throw new KeystoreError("a keystore password needs at least 8 characters");
  const address = privateKeyToAccount(privateKey).address;
  return encryptKeystoreJson({ address, privateKey }, password, { scrypt: { N: options.scryptN ?? 1 << 17 } });
}

/** Decrypts a keystore JSON; a wrong password is a {@link KeystoreError}. */
export async function decryptKey(json: string, password: string): Promise<{ address: Address; privateKey: Hex }> {
  if (!isKeystoreJson(json)) throw new KeystoreError("not a Web3 Secret Storage keystore");
  try {
    const account = await decryptKeystoreJson(json, password);
    return { address: account.address as Address, privateKey: account.privateKey as Hex };
  } catch (cause) {
    throw new KeystoreError("wrong keystore password or damaged keystore", { cause });
  }
}

/** Creates a new random key and writes it encrypted to `file` (mode 0600). Returns its address only. */
export async function createKeystoreFile(
  file: string,
  password: string,
  options: KeystoreOptions = {},
): Promise<Address> {
  const privateKey = generatePrivateKey();
  await writeFile(file, await encryptKey(privateKey, password, options), { mode: 0o600, flag: "wx" });
  return privateKeyToAccount(privateKey).address;
}

/** Opens a keystore file. */
export async function openKeystoreFile(file: string, password: string) {
  return decryptKey(await readFile(file, "utf8"), password);
}

/** The address a keystore file holds, read without the password. */
export async function keystoreAddress(file: string): Promise<Address> {
  const parsed = JSON.parse(await readFile(file, "utf8")) as { address?: string };
  if (!parsed.address) throw new KeystoreError(`${file} has no address`);
  const hex = parsed.address.startsWith("0x") ? parsed.address : `0x${parsed.address}`;
  return hex.toLowerCase() as Address;
}
