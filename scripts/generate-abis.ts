// Generates typed ABIs for node/ from Hardhat's artifacts (run by `npm run build` after `hardhat build`).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateAbis } from "../node/chain/generateAbis.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const found = await generateAbis(root);
console.error(`typed ABIs generated: ${found.join(", ") || "none"}`);
