/** Chaos runs draw from a seeded PRNG, so a run can be replayed with the seed it prints. */
export { type Random, createRandom } from "../prng.ts";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
