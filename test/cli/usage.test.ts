import { describe, expect, it } from "vitest";
import { DEPLOY_SCRIPT, runHulian, runScript } from "./runHulian.ts";

const COMMANDS = {
  devnet: ["--data-dir", "--rpc-port", "--api-port", "--explorer-port"],
  node: ["--config"],
  deploy: ["--rpc", "--keystore", "--out", "--network", "--governor", "--issuer", "--regulator", "--admin", "--token-name", "--token-symbol"],
  keys: ["--out", "--keystore", "--check"],
} as const;

/** The command names in the "Commands:" section of `hulian --help`. */
function listedCommands(help: string): string[] {
  const section = help.split("Commands:\n")[1].split("\n\n")[0];
  return section.split("\n").map((line) => line.trim().split(/\s+/)[0]);
}

/** The long flags in the "Options:" section of a command's help. */
function listedOptions(help: string): string[] {
  return [...help.matchAll(/^ {2}(?:-\w, | {4})(--[\w-]+)/gm)].map((m) => m[1]);
}

describe.concurrent("hulian (top level)", () => {
  it("default: --help lists every command and exits 0", async () => {
    const r = await runHulian(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: hulian <command> [options]");
    expect(listedCommands(r.stdout)).toEqual(expect.arrayContaining(Object.keys(COMMANDS)));
    expect(r.stderr).toBe("");
  });

  it("behavior: `help` and -h print the same usage", async () => {
    const [help, h, full] = await Promise.all([runHulian(["help"]), runHulian(["-h"]), runHulian(["--help"])]);
    expect(help.code).toBe(0);
    expect(h.code).toBe(0);
    expect(help.stdout).toBe(full.stdout);
    expect(h.stdout).toBe(full.stdout);
  });

  it("behavior: --version prints the package version", async () => {
    const r = await runHulian(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("error: no command prints usage on stderr and exits 2", async () => {
    const r = await runHulian([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Usage: hulian <command>");
  });

  it("error: unknown command exits 2 and names it", async () => {
    const r = await runHulian(["deplyo"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")[0]).toBe('hulian: unknown command "deplyo"');
    expect(r.stderr).toContain("Commands:");
  });

  it("error: unknown top-level flag exits 2 and calls it an option", async () => {
    const r = await runHulian(["--verbose"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("hulian: unknown option --verbose");
  });

  it("error: a prototype property name is not a command", async () => {
    const r = await runHulian(["constructor"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe('hulian: unknown command "constructor"');
  });
});

describe.concurrent("hulian <command> --help", () => {
  for (const [name, options] of Object.entries(COMMANDS)) {
    it(`default: ${name} --help exits 0 and lists its options`, async () => {
      const r = await runHulian([name, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(`Usage: hulian ${name}`);
      expect(listedOptions(r.stdout).sort()).toEqual([...options, "--help"].sort());
    });
  }

  it("default: every command that `hulian --help` lists has a --help with its options", async () => {
    const names = listedCommands((await runHulian(["--help"])).stdout);
    expect(names.length).toBeGreaterThanOrEqual(Object.keys(COMMANDS).length);
    const results = await Promise.all(names.map((name) => runHulian([name, "--help"])));
    results.forEach((r, i) => {
      expect(r.code, names[i]).toBe(0);
      expect(r.stdout, names[i]).toContain(`Usage: hulian ${names[i]}`);
      expect(listedOptions(r.stdout), names[i]).toContain("--help");
      expect(listedOptions(r.stdout).length, names[i]).toBeGreaterThan(1);
    });
  });

  it("behavior: `hulian help keys` and `hulian keys -h` are `hulian keys --help`", async () => {
    const [a, b, c] = await Promise.all([
      runHulian(["help", "keys"]),
      runHulian(["keys", "-h"]),
      runHulian(["keys", "--help"]),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.stdout).toBe(c.stdout);
    expect(b.stdout).toBe(c.stdout);
  });

  it("behavior: --help wins over other flags, even unknown ones", async () => {
    const r = await runHulian(["deploy", "--bogus", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: hulian deploy");
  });

  it("behavior: help shows defaults", async () => {
    const r = await runHulian(["devnet", "--help"]);
    expect(r.stdout).toMatch(/--rpc-port <port> .*\(default: 8545\)/);
    expect(r.stdout).toMatch(/--data-dir <dir> .*\(default: \.hulian\/devnet\)/);
  });

  it("behavior: scripts/deploy.ts (npm run deploy) delegates to hulian deploy", async () => {
    const [script, cli] = await Promise.all([runScript(DEPLOY_SCRIPT, ["--help"]), runHulian(["deploy", "--help"])]);
    expect(script.code).toBe(0);
    expect(script.stdout).toBe(cli.stdout);
    expect(script.stdout).toContain("Usage: hulian deploy");
  });
});

describe.concurrent("flag errors", () => {
  it("error: unknown flag exits 2 with a one-line reason and a pointer to --help", async () => {
    const r = await runHulian(["keys", "new", "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe('hulian keys: unknown option --bogus\nRun "hulian keys --help" for usage.\n');
  });

  it("error: a misspelt flag gets a suggestion", async () => {
    const r = await runHulian(["deploy", "--keystor", "k.json"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("hulian deploy: unknown option --keystor (did you mean --keystore?)");
  });

  it("error: a flag without its value", async () => {
    const r = await runHulian(["keys", "new", "--out"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("hulian keys: --out needs a value");
  });

  it("error: a flag followed by another flag instead of its value", async () => {
    const r = await runHulian(["keys", "show", "--keystore", "--check"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("hulian keys: --keystore needs a value");
  });

  it("error: a value given to a switch", async () => {
    const r = await runHulian(["keys", "show", "--check=yes"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("hulian keys: --check is a switch and takes no value");
  });

  it("error: missing required flag", async () => {
    const [keysNew, keysShow, deploy, node] = await Promise.all([
      runHulian(["keys", "new"]),
      runHulian(["keys", "show"]),
      runHulian(["deploy", "--rpc", "http://127.0.0.1:8545"]),
      runHulian(["node"]),
    ]);
    for (const r of [keysNew, keysShow, deploy, node]) expect(r.code).toBe(2);
    expect(keysNew.stderr.split("\n")[0]).toBe("hulian keys: --out is required");
    expect(keysShow.stderr.split("\n")[0]).toBe("hulian keys: --keystore is required");
    expect(deploy.stderr.split("\n")[0]).toBe("hulian deploy: --keystore is required");
    expect(node.stderr.split("\n")[0]).toBe("hulian node: --config is required");
  });

  it("error: a stray positional argument", async () => {
    const r = await runHulian(["deploy", "mainnet", "--keystore", "k.json"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe('hulian deploy: unexpected argument "mainnet"');
  });

  it("error: keys without an action, or with an unknown one", async () => {
    const [none, unknown] = await Promise.all([runHulian(["keys"]), runHulian(["keys", "list"])]);
    expect(none.code).toBe(2);
    expect(none.stderr.split("\n")[0]).toBe('hulian keys: missing action (use "keys new" or "keys show")');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split("\n")[0]).toBe('hulian keys: unknown action "list" (use "keys new" or "keys show")');
  });

  it("error: a port that is not a port", async () => {
    const [word, big] = await Promise.all([
      runHulian(["devnet", "--rpc-port", "abc"]),
      runHulian(["devnet", "--api-port", "70000"]),
    ]);
    expect(word.code).toBe(2);
    expect(word.stderr.split("\n")[0]).toBe('hulian devnet: --rpc-port must be a port number from 0 to 65535, got "abc"');
    expect(big.code).toBe(2);
    expect(big.stderr.split("\n")[0]).toBe('hulian devnet: --api-port must be a port number from 0 to 65535, got "70000"');
  });
});
