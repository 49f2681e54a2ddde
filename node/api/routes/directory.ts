import { ApiProblem } from "../problem.ts";
import { splitWalletAddress } from "../validate.ts";
import { APP, type RouteRegistry, type WalletRoutesDeps } from "./common.ts";

/**
 * Registers `GET /v1/directory/:address`: resolves `handle@WALLET` to the wallet and the payee's
 * masked name, for a confirmation screen before paying. Nothing moves.
 */
export function registerDirectoryRoutes(server: RouteRegistry, { service }: WalletRoutesDeps): void {
  server.route(
    "GET",
    "/v1/directory/:address",
    async (ctx) => {
      const address = ctx.params.address;
      if (address.length > 280 || !splitWalletAddress(address)) {
        throw new ApiProblem("validation_failed", 400, "The request has invalid fields.", {
          errors: [{ field: "address", message: "must be handle@WALLET" }],
        });
      }
      const r = await service.resolve(address);
      return { status: 200, body: { address: r.address, wallet: r.wallet, maskedName: r.maskedName } };
    },
    {
      auth: APP,
      doc: {
        operationId: "resolveAddress",
        summary: "Resolve handle@WALLET to the payee's wallet and masked name",
        tags: ["directory"],
        params: { address: { description: "`handle@WALLET`, percent-encoded.", schema: { type: "string" } } },
        responses: { "200": { description: "The payee.", schema: { $ref: "#/components/schemas/DirectoryEntry" } } },
        problems: [404, 422, 502, 503],
      },
    },
  );
}
