// `npm run deploy -- --rpc URL --keystore FILE --out FILE`: the same as `hulian deploy`.
process.argv.splice(2, 0, "deploy");
await import("../node/cli/hulian.ts");
