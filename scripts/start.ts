// `npm start`: the whole Hulian network on this machine — the same as `hulian devnet`.
process.argv.splice(2, 0, "devnet");
await import("../node/cli/hulian.ts");
