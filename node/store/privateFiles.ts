import { mkdir, open, stat } from "node:fs/promises";
import { HulianError } from "./errors.ts";

/** Permission bits a private directory may have: its owner's only. */
export const PRIVATE_DIR_MODE = 0o700;
/** Permission bits a secret file may have: read and write for its owner only. */
export const SECRET_FILE_MODE = 0o600;

/** Group and other bits: any of them set means another local user can read (or list) the path. */
const GROUP_OTHER = 0o077;

/**
 * A data directory or secret file that other local users can read. Not retryable: nothing changes
 * until the owner runs the `chmod` the message names.
 */
export class InsecurePermissionsError extends HulianError {
  override name = "InsecurePermissionsError";
  readonly path: string;
  readonly mode: number;
  constructor(path: string, mode: number, kind: "directory" | "file") {
    const want = kind === "directory" ? PRIVATE_DIR_MODE : SECRET_FILE_MODE;
    super(
      "insecure_permissions",
      `${path} is open to other users (mode ${octal(mode)}); it holds secrets, so it must be ${octal(want)}. Run: chmod ${octal(want).slice(1)} ${shellQuote(path)}`,
      { details: { path, mode: octal(mode), expected: octal(want), kind } },
    );
    this.path = path;
    this.mode = mode;
  }
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
}

/** Quotes a path for the suggested command only when it needs it, so the usual case reads plainly. */
function shellQuote(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replaceAll("'", `'\\''`)}'`;
}

// Permission bits mean nothing to Windows' ACLs; there the check would refuse every directory.
const CHECKS_MODES = process.platform !== "win32";

/**
 * Creates `dir` (and missing parents) with mode 0700, or checks that an existing one is 0700 or
 * tighter. A data directory holds the reference secret and customer records; if any local user
 * could read it they could link on-chain references to named customers, so a looser one is refused
 * rather than silently tightened (the owner should learn who may already have read it).
 *
 * @throws {InsecurePermissionsError} when the directory grants group or other users any access.
 * @example
 * await ensurePrivateDir("/var/lib/hulian/alipay");
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const info = await stat(dir);
  if (!info.isDirectory()) throw new HulianError("not_a_directory", `${dir} is not a directory`, { details: { path: dir } });
  if (CHECKS_MODES && (info.mode & GROUP_OTHER) !== 0) throw new InsecurePermissionsError(dir, info.mode, "directory");
}

/**
 * Checks that a secret file (keystore, API key file, password file, audit log) grants no access to
 * group or other users. `optional` files may be missing (they are then created 0600 by whoever
 * writes them first).
 *
 * @throws {InsecurePermissionsError} when the file is readable or writable by others.
 */
export async function checkSecretFile(file: string, options: { optional?: boolean } = {}): Promise<void> {
  const info = await stat(file).catch((e: NodeJS.ErrnoException) => {
    if (options.optional && e.code === "ENOENT") return undefined;
    throw e;
  });
  if (info && CHECKS_MODES && (info.mode & GROUP_OTHER) !== 0) throw new InsecurePermissionsError(file, info.mode, "file");
}

/**
 * Writes a secret file with mode 0600. The mode given to `open` applies only when it creates the
 * file, so an existing one is narrowed before a byte is written: rewriting a secret never leaves it
 * as open as the old file was, not even for a moment.
 */
export async function writeSecretFile(file: string, data: string, options: { exclusive?: boolean } = {}): Promise<void> {
  const fh = await open(file, options.exclusive ? "wx" : "w", SECRET_FILE_MODE);
  try {
    await fh.chmod(SECRET_FILE_MODE);
    await fh.writeFile(data, "utf8");
  } finally {
    await fh.close();
  }
}
