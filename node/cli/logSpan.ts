import { DEFAULT_LOG_SPAN_BLOCKS } from "../chain/getLogsPaged.ts";
import { type OptionSpec, UsageError } from "./args.ts";

/** The `--log-span` option of the commands that read logs. */
export const LOG_SPAN_OPTION: OptionSpec = {
  type: "string",
  default: String(DEFAULT_LOG_SPAN_BLOCKS),
  description: "widest eth_getLogs block span: at most the node's rpc-max-logs-range",
  placeholder: "blocks",
};

/** `--log-span`: a whole number of blocks from 1 to 1,000,000. */
export function logSpan(values: Record<string, unknown>): number {
  const raw = String(values["log-span"] ?? DEFAULT_LOG_SPAN_BLOCKS);
  if (!/^[1-9][0-9]{0,6}$/.test(raw) || Number(raw) > 1_000_000) throw new UsageError("--log-span must be a whole number of blocks from 1 to 1000000");
  return Number(raw);
}
