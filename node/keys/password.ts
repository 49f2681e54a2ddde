import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { InsecurePermissionsError, checkSecretFile } from "../store/privateFiles.ts";

/**
 * The keystore password: from the environment variable `envName` when set (for services), else
 * from the file named by `${envName}_FILE` (mode 0600 or tighter; one trailing newline ignored),
 * else a prompt on the terminal with echo off. Never logged.
 *
 * @example
 * // HULIAN_KEYSTORE_PASSWORD_FILE=.hulian/devnet/keystore.password hulian node --config …
 * const password = await readPassword("HULIAN_KEYSTORE_PASSWORD", "Keystore password: ");
 */
export async function readPassword(envName: string, prompt: string): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  const file = process.env[`${envName}_FILE`];
  if (file) return readPasswordFile(file, `${envName}_FILE`);
  if (!process.stdin.isTTY) {
    throw new Error(`set ${envName} or run in a terminal to type the keystore password`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void };
  process.stderr.write(prompt);
  out._writeToOutput = () => {};
  try {
    return await new Promise<string>((resolve) => rl.question("", resolve));
  } finally {
    rl.close();
    process.stderr.write("\n");
  }
}

async function readPasswordFile(file: string, envName: string): Promise<string> {
  const text = await checkSecretFile(file)
    .then(() => readFile(file, "utf8"))
    .catch((e: NodeJS.ErrnoException) => {
      if (e instanceof InsecurePermissionsError || !e.code) throw e;
      throw new Error(`${envName}: cannot read ${file} (${e.code})`, { cause: e });
    });
  const password = text.replace(/\r?\n$/, "");
  if (password === "") throw new Error(`${envName}: ${file} is empty`);
  return password;
}
