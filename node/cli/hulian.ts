#!/usr/bin/env node
// The `hulian` command: parses the sub-command and hands over; each command wires parts from node/.
import { UsageError } from "./args.ts";

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
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`hulian: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`hulian ${name}: ${e.message}\nRun "hulian ${name} --help" for usage.`);
      return 2;
    }
    console.error(`hulian ${name}: ${(e as Error).message}`);
    if (process.env.HULIAN_DEBUG) console.error(e);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
