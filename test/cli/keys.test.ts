import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runHulian } from "./runHulian.ts";

const PASSWORD = "tea-horse-road-7342";
const withPassword = { HULIAN_KEYSTORE_PASSWORD: PASSWORD };

describe.concurrent("hulian keys", () => {
  let dir: string;
  let file: string;
  let created: { address: string; keystore: string };
  let newOutput: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hulian-cli-keys-"));
    file = path.join(dir, "alipay.keystore.json");
    const r = await runHulian(["keys", "new", "--out", file], withPassword);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    newOutput = r.stdout + r.stderr;
    created = JSON.parse(r.stdout);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("default: keys new prints the new address as JSON", () => {
    expect(created.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(created.keystore).toBe(file);
  });

  it("behavior: keys new writes a Web3 Secret Storage v3 keystore with scrypt, readable by its owner only", async () => {
    const json = JSON.parse(await readFile(file, "utf8"));
    expect(json.version).toBe(3);
    expect(json.address.toLowerCase()).toBe(created.address.slice(2).toLowerCase());
    const crypto = json.crypto ?? json.Crypto;
    expect(crypto.kdf).toBe("scrypt");
    expect(crypto.kdfparams.n).toBeGreaterThanOrEqual(1 << 14);
    expect(crypto.kdfparams.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(crypto.cipher).toBe("aes-128-ctr");
    expect(crypto.mac).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("behavior: keys show prints the same address without a password", async () => {
    const r = await runHulian(["keys", "show", "--keystore", file]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ address: created.address, keystore: file });
  });

  it("behavior: keys show --check with the right password decrypts it", async () => {
    const r = await runHulian(["keys", "show", "--keystore", file, "--check"], withPassword);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ address: created.address, keystore: file, password: "ok" });
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it("error: keys show --check with the wrong password exits 1 with a readable message", async () => {
    const wrong = "not-the-password-1";
    const r = await runHulian(["keys", "show", "--keystore", file, "--check"], { HULIAN_KEYSTORE_PASSWORD: wrong });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("hulian keys: wrong keystore password or damaged keystore\n");
    expect(r.stderr).not.toContain(wrong);
  });

  it("error: keys show --check without a password and no terminal says how to give one", async () => {
    const r = await runHulian(["keys", "show", "--keystore", file, "--check"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "hulian keys: set HULIAN_KEYSTORE_PASSWORD or run in a terminal to type the keystore password\n",
    );
  });

  it("behavior: the password never appears in any output", () => {
    expect(newOutput).not.toContain(PASSWORD);
  });

  it("error: keys new refuses to overwrite an existing keystore", async () => {
    const before = await readFile(file, "utf8");
    const r = await runHulian(["keys", "new", "--out", file], withPassword);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`hulian keys: ${file} exists already; refusing to overwrite a key (choose another --out)\n`);
    expect(await readFile(file, "utf8")).toBe(before);
  });

  it("error: keys new with a short password writes nothing", async () => {
    const out = path.join(dir, "short.keystore.json");
    const r = await runHulian(["keys", "new", "--out", out], { HULIAN_KEYSTORE_PASSWORD: "short" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("hulian keys: a keystore password needs at least 8 characters\n");
    await expect(stat(out)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("error: keys show on a missing file names the file", async () => {
    const missing = path.join(dir, "missing.json");
    const r = await runHulian(["keys", "show", "--keystore", missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`hulian keys: cannot read keystore ${missing}: no such file\n`);
  });

  it("error: keys show on a file that is not a keystore says so", async () => {
    const notJson = path.join(dir, "notes.txt");
    await writeFile(notJson, "hello");
    const r = await runHulian(["keys", "show", "--keystore", notJson]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`hulian keys: ${notJson} is not a keystore (not JSON)\n`);
  });
});
