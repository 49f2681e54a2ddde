#!/usr/bin/env node
// The `hulian` command: parses the sub-command and hands over; each command wires parts from node/.
import { readFileSync } from "node:fs";
import { HelpRequested, UsageError } from "./args.ts";

type Command = { summary: string; run: (argv: string[]) => Promise<void> };

const commands: Record<string, Command> = {
  devnet: {
    summary: "run the whole network on this machine (embedded chain, contracts, operator nodes)",
    run: async (argv) => (await import("./commands/devnet.ts")).devnetCommand(argv),
  },
  node: {
    summary: "run one operator's node against any JSON-RPC chain (hulian node --config FILE)",
    run: async (argv) => (await import("./commands/node.ts")).nodeCommand(argv),
  },
  deploy: {
    summary: "deploy the contracts to a JSON-RPC chain and write a deployment manifest",
    run: async (argv) => (await import("./commands/deploy.ts")).deployCommand(argv),
  },
  network: {
    summary: "generate and check a Besu QBFT production network (network init | verify | node-key)",
    run: async (argv) => (await import("./commands/network.ts")).networkCommand(argv),
  },
  operator: {
    summary: "membership over WalletRegistry (operator apply | approve | reject | suspend | resume | exit | list)",
    run: async (argv) => (await import("./commands/operator.ts")).operatorCommand(argv),
  },
  audit: {
    summary: "prove, trace and export from chain data; check reserves (audit verify | trace | export | chain | reserves | inclusion)",
    run: async (argv) => (await import("./commands/audit.ts")).auditCommand(argv),
  },
  attest: {
    summary: "post a reserve attestation now through the running node (hulian attest --node URL)",
    run: async (argv) => (await import("./commands/attest.ts")).attestCommand(argv),
  },
  explorer: {
    summary: "run the read-only regulator explorer (hulian explorer --rpc URL --deployment FILE)",
    run: async (argv) => (await import("./commands/explorer.ts")).explorerCommand(argv),
  },
  keys: {
    summary: "create or show an encrypted operator keystore (keys new | keys show)",
    run: async (argv) => (await import("./commands/keys.ts")).keysCommand(argv),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    "hulian — settlement network for digital-wallet operators",
    "",
    "Usage: hulian <command> [options]   (hulian <command> --help for a command's options)",
    "",
    "Commands:",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  -h, --help     show this help",
    "  -V, --version  print the version",
  ].join("\n");
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** A viem error's first line is its summary; the rest (request body, library version) is for debugging. */
function errorText(e: unknown): string {
  const err = e as { shortMessage?: unknown; details?: unknown; message?: unknown };
  if (typeof err?.shortMessage === "string") {
    return typeof err.details === "string" && err.details ? `${err.shortMessage} (${err.details})` : err.shortMessage;
  }
  return typeof err?.message === "string" ? err.message : String(e);
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (!first) {
    console.error(usage());
    return 2;
  }
  if (first === "--help" || first === "-h") {
    console.log(usage());
    return 0;
  }
  if (first === "--version" || first === "-V") {
    console.log(version());
    return 0;
  }
  // `hulian help` and `hulian help <command>` are the same as the --help flags.
  const [name, args] = first === "help" ? [rest[0], ["--help"]] : [first, rest];
  if (name === undefined) {
    console.log(usage());
    return 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    const what = name.startsWith("-") ? `unknown option ${name}` : `unknown command "${name}"`;
    console.error(`hulian: ${what}\n\n${usage()}`);
    return 2;
  }
  try {
    // Every command imports the generated ABIs; build them here if an install skipped that.
    const [{ ensureGeneratedAbis }, { progress }] = await Promise.all([import("./ensureBuilt.ts"), import("./progress.ts")]);
    await ensureGeneratedAbis(progress);
    await command.run(args);
    return 0;
  } catch (e) {
    if (e instanceof HelpRequested) {
      console.log(e.help);
      return 0;
    }
    if (e instanceof UsageError) {
      console.error(`hulian ${name}: ${e.message}\nRun "hulian ${name} --help" for usage.`);
      return 2;
    }
    console.error(`hulian ${name}: ${errorText(e)}`);
    if (process.env.HULIAN_DEBUG) console.error(e);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
