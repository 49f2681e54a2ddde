import { describe, expect, test } from "vitest";
import { checkPeerEndpoint, classifyAddress } from "../../node/directory/peerEndpoint.ts";

/*
 * A member's published endpoint is checked before this node sends it anything. No DNS here: literal
 * addresses, `localhost`, and a resolver given in the policy.
 */

describe("classifyAddress", () => {
  test.each([
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["2606:4700:4700::1111", "public"],
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["::1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["fd12:3456::1", "private"],
    ["fc00::1", "private"],
    ["169.254.169.254", "forbidden"],
    ["0.0.0.0", "forbidden"],
    ["224.0.0.251", "forbidden"],
    ["239.255.255.250", "forbidden"],
    ["255.255.255.255", "forbidden"],
    ["::", "forbidden"],
    ["fe80::1", "forbidden"],
    ["fe80::1%eth0", "forbidden"],
    ["ff02::1", "forbidden"],
    ["2001:db8::1", "forbidden"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:169.254.169.254", "forbidden"],
    ["::ffff:8.8.8.8", "public"],
    ["64:ff9b::a9fe:a9fe", "forbidden"],
    ["2002:7f00:1::1", "loopback"],
    ["172.32.0.1", "public"],
    ["not-an-ip", "forbidden"],
  ])("%s is %s", (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });
});

describe("checkPeerEndpoint", () => {
  test("default: a public https endpoint passes", async () => {
    expect((await checkPeerEndpoint("https://8.8.8.8:8443")).href).toBe("https://8.8.8.8:8443/");
    expect((await checkPeerEndpoint("https://node.example", { resolveHost: async () => ["93.184.216.34"] })).hostname).toBe("node.example");
  });

  test.each([
    ["http://8.8.8.8", "scheme_refused"],
    ["ftp://8.8.8.8", "scheme_refused"],
    ["file:///etc/passwd", "scheme_refused"],
    ["not a url", "invalid_url"],
    ["https://user:pw@8.8.8.8", "credentials_in_url"],
    ["https://127.0.0.1:8545", "loopback_address"],
    ["https://127.1", "loopback_address"],
    ["https://2130706433", "loopback_address"],
    ["https://localhost:8545", "loopback_address"],
    ["https://LOCALHOST.", "loopback_address"],
    ["https://api.localhost", "loopback_address"],
    ["https://[::1]:8443", "loopback_address"],
    ["https://[::ffff:127.0.0.1]", "loopback_address"],
    ["https://10.0.0.8", "private_address"],
    ["https://192.168.0.1", "private_address"],
    ["https://[fd00::1]", "private_address"],
    ["https://169.254.169.254/latest/meta-data", "forbidden_address"],
    ["https://[fe80::1]", "forbidden_address"],
    ["https://224.0.0.1", "forbidden_address"],
    ["https://0.0.0.0:22", "forbidden_address"],
  ])("error: %s is refused (%s)", async (endpoint, reason) => {
    await expect(checkPeerEndpoint(endpoint)).rejects.toMatchObject({ name: "PeerEndpointError", reason });
  });

  test("error: a host name is refused when any address it resolves to is internal, or when it does not resolve", async () => {
    await expect(checkPeerEndpoint("https://node.example", { resolveHost: async () => ["93.184.216.34", "10.0.0.1"] })).rejects.toMatchObject({ reason: "private_address" });
    await expect(checkPeerEndpoint("https://node.example", { resolveHost: async () => ["::ffff:127.0.0.1"] })).rejects.toMatchObject({ reason: "loopback_address" });
    await expect(checkPeerEndpoint("https://node.example", { resolveHost: async () => [] })).rejects.toMatchObject({ reason: "unresolvable" });
    await expect(checkPeerEndpoint("https://node.example", { resolveHost: async () => { throw new Error("ENOTFOUND"); } })).rejects.toMatchObject({ reason: "unresolvable" });
  });

  test("behavior: the devnet flag allows loopback and plain http, and nothing else", async () => {
    const devnet = { allowLoopback: true };
    expect((await checkPeerEndpoint("http://127.0.0.1:8545", devnet)).port).toBe("8545");
    expect((await checkPeerEndpoint("http://localhost:8545", devnet)).port).toBe("8545");
    expect((await checkPeerEndpoint("https://[::1]:8443", devnet)).port).toBe("8443");
    await expect(checkPeerEndpoint("http://10.0.0.8", devnet)).rejects.toMatchObject({ reason: "private_address" });
    await expect(checkPeerEndpoint("http://169.254.169.254", devnet)).rejects.toMatchObject({ reason: "forbidden_address" });
    expect((await checkPeerEndpoint("https://10.0.0.8", { allowPrivateNetworks: true })).hostname).toBe("10.0.0.8");
    await expect(checkPeerEndpoint("http://10.0.0.8", { allowPrivateNetworks: true })).rejects.toMatchObject({ reason: "scheme_refused" });
    await expect(checkPeerEndpoint("http://127.0.0.1", { allowLoopback: true, allowHttp: false })).rejects.toMatchObject({ reason: "scheme_refused" });
  });
});
