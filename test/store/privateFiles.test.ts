import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InsecurePermissionsError, checkSecretFile, ensurePrivateDir, writeSecretFile } from "../../node/store/privateFiles.ts";

let dir: string;
const mode = async (p: string) => (await stat(p)).mode & 0o777;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "hulian-private-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("ensurePrivateDir", () => {
  it("default: creates the folder and its missing parents 0700", async () => {
    const nested = path.join(dir, "a", "b", "data");
    await ensurePrivateDir(nested);
    expect(await mode(nested)).toBe(0o700);
    expect(await mode(path.join(dir, "a"))).toBe(0o700);
    expect(await mode(path.join(dir, "a", "b"))).toBe(0o700);
  });

  it("behavior: accepts an existing 0700 folder and leaves it as it is", async () => {
    const existing = path.join(dir, "ok");
    await mkdir(existing, { mode: 0o700 });
    await ensurePrivateDir(existing);
    expect(await mode(existing)).toBe(0o700);
  });

  it.each([0o755, 0o750, 0o701, 0o707])("error: refuses an existing folder of mode %o and names the chmod to run", async (m) => {
    const loose = path.join(dir, `loose-${m.toString(8)}`);
    await mkdir(loose);
    await chmod(loose, m);
    const err = await ensurePrivateDir(loose).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsecurePermissionsError);
    expect((err as InsecurePermissionsError).code).toBe("insecure_permissions");
    expect((err as Error).message).toBe(
      `${loose} is open to other users (mode 0${m.toString(8)}); it holds secrets, so it must be 0700. Run: chmod 700 ${loose}`,
    );
    expect(await mode(loose)).toBe(m);
  });

  it("error: the suggested command quotes a path with spaces", async () => {
    const spaced = path.join(dir, "my data");
    await mkdir(spaced, { mode: 0o755 });
    await chmod(spaced, 0o755);
    await expect(ensurePrivateDir(spaced)).rejects.toThrow(`Run: chmod 700 '${spaced}'`);
  });

  it("error: a file where the folder should be is refused", async () => {
    const file = path.join(dir, "not-a-dir");
    await writeFile(file, "x", { mode: 0o600 });
    await expect(ensurePrivateDir(file)).rejects.toThrow();
  });
});

describe("checkSecretFile", () => {
  it("default: accepts 0600 and 0400", async () => {
    for (const m of [0o600, 0o400]) {
      const file = path.join(dir, `secret-${m.toString(8)}`);
      await writeFile(file, "s");
      await chmod(file, m);
      await checkSecretFile(file);
    }
  });

  it.each([0o644, 0o640, 0o604, 0o666])("error: refuses a secret file of mode %o", async (m) => {
    const file = path.join(dir, `open-${m.toString(8)}`);
    await writeFile(file, "s");
    await chmod(file, m);
    await expect(checkSecretFile(file)).rejects.toThrow(
      `${file} is open to other users (mode 0${m.toString(8)}); it holds secrets, so it must be 0600. Run: chmod 600 ${file}`,
    );
  });

  it("behavior: an optional file may be missing, a required one may not", async () => {
    const missing = path.join(dir, "missing");
    await checkSecretFile(missing, { optional: true });
    await expect(checkSecretFile(missing)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("writeSecretFile", () => {
  it("default: creates the file 0600", async () => {
    const file = path.join(dir, "new-secret");
    await writeSecretFile(file, "hello");
    expect(await mode(file)).toBe(0o600);
    expect(await readFile(file, "utf8")).toBe("hello");
  });

  it("behavior: rewriting an existing 0644 file narrows it to 0600", async () => {
    const file = path.join(dir, "old-secret");
    await writeFile(file, "old");
    await chmod(file, 0o644);
    await writeSecretFile(file, "new");
    expect(await mode(file)).toBe(0o600);
    expect(await readFile(file, "utf8")).toBe("new");
  });

  it("error: exclusive refuses to overwrite", async () => {
    const file = path.join(dir, "kept");
    await writeSecretFile(file, "first");
    await expect(writeSecretFile(file, "second", { exclusive: true })).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readFile(file, "utf8")).toBe("first");
  });
});
