import { access } from "node:fs/promises";
import { createKeystoreFile, keystoreAddress, openKeystoreFile } from "../../keys/keystore.ts";
import { readPassword } from "../../keys/password.ts";
import { type CommandSpec, UsageError, parseCommand, requireString } from "../args.ts";

export const keysSpec: CommandSpec = {
  name: "keys",
  summary: "Create or inspect an encrypted operator keystore (Web3 Secret Storage, scrypt).",
  usage: "hulian keys new --out FILE | hulian keys show --keystore FILE [--check]",
  options: {
    out: { type: "string", description: "keystore file to create (keys new)", placeholder: "file" },
    keystore: { type: "string", description: "keystore file to read (keys show)", placeholder: "file" },
    check: { type: "boolean", description: "keys show: also decrypt, to check the password" },
  },
  examples: [
    "HULIAN_KEYSTORE_PASSWORD=… hulian keys new --out alipay.keystore.json",
    "hulian keys show --keystore alipay.keystore.json",
  ],
};

/** `hulian keys new|show`. The password comes from HULIAN_KEYSTORE_PASSWORD or a prompt, never a flag. */
export async function keysCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(keysSpec, argv);
  const action = positionals[0];
  if (action === "new") {
    const out = requireString(values, "out");
    if (await exists(out)) throw new UsageError(`${out} exists already; refusing to overwrite a key`);
    const password = await readPassword("HULIAN_KEYSTORE_PASSWORD", "New keystore password: ");
    const address = await createKeystoreFile(out, password);
    console.log(JSON.stringify({ address, keystore: out }));
    return;
  }
  if (action === "show") {
    const file = requireString(values, "keystore");
    const address = await keystoreAddress(file);
    if (values.check) {
      const opened = await openKeystoreFile(file, await readPassword("HULIAN_KEYSTORE_PASSWORD", "Keystore password: "));
      console.log(JSON.stringify({ address: opened.address, keystore: file, password: "ok" }));
      return;
    }
    console.log(JSON.stringify({ address, keystore: file }));
    return;
  }
  throw new UsageError(action ? `unknown action "${action}" (use new or show)` : "say new or show");
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
