import { access } from "node:fs/promises";
import { readPassword } from "../../keys/password.ts";
import { type CommandSpec, UsageError, parseCommand, requireString } from "../args.ts";

export const keysSpec: CommandSpec = {
  name: "keys",
  summary: "Create or inspect an encrypted operator keystore (Web3 Secret Storage, scrypt).",
  usage: "hulian keys new --out FILE | hulian keys show --keystore FILE [--check]",
  options: {
    out: { type: "string", description: "keys new: keystore file to create (never overwritten)", placeholder: "file" },
    keystore: { type: "string", description: "keys show: keystore file to read", placeholder: "file" },
    check: { type: "boolean", description: "keys show: also decrypt it, to check the password" },
  },
  maxPositionals: 1,
  examples: [
    "HULIAN_KEYSTORE_PASSWORD=… hulian keys new --out alipay.keystore.json",
    "hulian keys show --keystore alipay.keystore.json",
  ],
};

/** `hulian keys new|show`. The password comes from HULIAN_KEYSTORE_PASSWORD or a prompt, never a flag. */
export async function keysCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(keysSpec, argv);
  const action = positionals[0];
  if (action !== "new" && action !== "show") {
    throw new UsageError(
      action ? `unknown action "${action}" (use "keys new" or "keys show")` : `missing action (use "keys new" or "keys show")`,
    );
  }
  const file = requireString(values, action === "new" ? "out" : "keystore");
  // Loaded only now, so --help and usage errors answer without loading the crypto libraries.
  const [{ getAddress }, { createKeystoreFile, keystoreAddress, openKeystoreFile }] = await Promise.all([
    import("viem"),
    import("../../keys/keystore.ts"),
  ]);
  if (action === "new") {
    if (await exists(file)) throw new Error(`${file} exists already; refusing to overwrite a key (choose another --out)`);
    const password = await readPassword("HULIAN_KEYSTORE_PASSWORD", "New keystore password: ");
    const address = await createKeystoreFile(file, password);
    console.log(JSON.stringify({ address, keystore: file }));
    return;
  }
  const address = await explainKeystoreError(file, () => keystoreAddress(file));
  if (values.check) {
    const password = await readPassword("HULIAN_KEYSTORE_PASSWORD", "Keystore password: ");
    const opened = await explainKeystoreError(file, () => openKeystoreFile(file, password));
    console.log(JSON.stringify({ address: getAddress(opened.address), keystore: file, password: "ok" }));
    return;
  }
  console.log(JSON.stringify({ address: getAddress(address), keystore: file }));
}

/** Runs `read` on keystore `file`, turning file-system and JSON errors into what a user needs: which file, what is wrong. */
export async function explainKeystoreError<T>(file: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`cannot read keystore ${file}: no such file`, { cause: e });
    if (code === "EACCES") throw new Error(`cannot read keystore ${file}: permission denied`, { cause: e });
    if (code === "EISDIR") throw new Error(`cannot read keystore ${file}: it is a directory`, { cause: e });
    if (e instanceof SyntaxError) throw new Error(`${file} is not a keystore (not JSON)`, { cause: e });
    throw e;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
