import { type CommandSpec, UsageError, parseCommand, requireString } from "../args.ts";

export const attestSpec: CommandSpec = {
  name: "attest",
  summary: "Post a reserve attestation now: the node snapshots its customer balances, builds the Merkle-sum tree and posts root, total and as-of on chain.",
  usage: "hulian attest --node URL [--admin-key KEY]",
  options: {
    node: { type: "string", default: "http://127.0.0.1:8601", description: "the operator node's API", placeholder: "url" },
    "admin-key": { type: "string", description: "admin-scoped API key of the node (or HULIAN_ADMIN_KEY)", placeholder: "key" },
    json: { type: "boolean", description: "print JSON" },
  },
  examples: ["HULIAN_ADMIN_KEY=hk_live_… hulian attest --node http://127.0.0.1:8601"],
};

/** `hulian attest`: asks the running node to attest (its ledger is open in that process only). */
export async function attestCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(attestSpec, argv);
  const node = requireString(values, "node").replace(/\/+$/, "");
  const key = (values["admin-key"] as string | undefined) ?? process.env.HULIAN_ADMIN_KEY;
  if (!key) throw new UsageError("--admin-key (or HULIAN_ADMIN_KEY) is required");
  const res = await fetch(`${node}/v1/admin/attestations`, { method: "POST", headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(120_000) });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status !== 201) throw new Error(`${node} answered ${res.status}: ${String(body.detail ?? body.title ?? "no detail")}`);
  if (values.json) {
    console.log(JSON.stringify(body, null, 2));
    return;
  }
  console.log(
    [
      `RESERVES ATTESTED  ${body.wallet}`,
      `  root          ${body.root}`,
      `  liabilities   ${body.total} (minor units) over ${body.accountCount} accounts`,
      `  as of         ${new Date(Number(body.asOf) * 1000).toISOString()}`,
      `  transaction   ${body.txHash} (block ${body.blockNumber})`,
    ].join("\n"),
  );
}
