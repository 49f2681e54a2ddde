export * from "./ids.ts";
export * from "./receipt.ts";
export * from "./merkleTree.ts";
export * from "./rootChain.ts";
export * from "./merkleSumTree.ts";
export * from "./transfersSettled.ts";
export * from "./batchMembers.ts";
