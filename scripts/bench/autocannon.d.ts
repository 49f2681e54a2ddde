// The part of autocannon 9's API the benchmark uses (the package ships no types).
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  interface Instance extends EventEmitter {
    stop(): void;
  }

  function autocannon(options: Record<string, unknown>, done: (err: unknown, result: unknown) => void): Instance;
  export default autocannon;
}
