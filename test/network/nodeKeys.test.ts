import { describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import {
  addressOfPublicKey,
  enodeUrl,
  formatKeyFile,
  generateNodeKey,
  nodeKeyFromPrivateKey,
  parseEnodeUrl,
  parseKeyFile,
} from "../../node/network/nodeKeys.ts";

describe("Besu node keys", () => {
  it("default: a node key's address is the address of its private key", () => {
    const key = generateNodeKey();
    expect(key.address).toBe(privateKeyToAccount(key.privateKey).address);
    expect(addressOfPublicKey(key.publicKey)).toBe(key.address);
    expect(key.publicKey).toMatch(/^0x[0-9a-f]{128}$/);
  });

  it("behavior: the key file reads back with or without 0x and a trailing newline", () => {
    const key = generateNodeKey();
    expect(parseKeyFile(formatKeyFile(key))).toEqual(key);
    expect(parseKeyFile(`${key.privateKey.slice(2)}\n`)).toEqual(key);
  });

  it("behavior: an enode URL is the public key without 0x at host:port", () => {
    const key = generateNodeKey();
    const url = enodeUrl(key.publicKey, "10.0.1.5", 30303);
    expect(url).toBe(`enode://${key.publicKey.slice(2)}@10.0.1.5:30303`);
    expect(parseEnodeUrl(url)).toEqual({ publicKey: key.publicKey, host: "10.0.1.5", port: 30303 });
  });

  it("error: keys outside the curve order and malformed files are refused", () => {
    expect(() => nodeKeyFromPrivateKey(`0x${"00".repeat(32)}`)).toThrow("[1, n-1]");
    expect(() => nodeKeyFromPrivateKey(`0x${"ff".repeat(32)}`)).toThrow("[1, n-1]");
    expect(() => parseKeyFile("0x1234")).toThrow("32 bytes");
    expect(() => parseKeyFile("aa\nbb")).toThrow("exactly one line");
    expect(() => parseEnodeUrl("enode://abc@1.2.3.4:1")).toThrow("not an enode URL");
  });
});
