import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalCidr,
  cidrContains,
  cidrCoveredBy,
  classifyCidr,
  formatCidr,
  InvalidCidrError,
  parseCidr,
} from "../../../shared/core/net/cidr.ts";

describe("parseCidr / canonicalCidr", () => {
  it.each([
    ["0.0.0.0/16", "0.0.0.0/16"],
    ["208.236.235.254/0", "0.0.0.0/0"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["192.0.2.7", "192.0.2.7/32"],
    ["2001:DB8::1/32", "2001:db8::/32"],
    ["::/0", "::/0"],
    ["2001:db8:0:0:1:0:0:1/128", "2001:db8::1:0:0:1/128"],
    ["::ffff:192.0.2.1/128", "::ffff:c000:201/128"],
    ["fe80::1/10", "fe80::/10"],
  ])("canonicalises %s to %s", (input, expected) => {
    expect(canonicalCidr(input)).toBe(expected);
  });

  it.each([
    "10.0.0.300/8",
    "10.0.0/8",
    "10.0.0.0/33",
    "::/129",
    "1:2:3:4:5:6:7:8:9/64",
    "hello",
    "1::2::3/64",
    "10.0.0.0/-1",
  ])("rejects %s", (input) => {
    expect(() => parseCidr(input)).toThrow(InvalidCidrError);
  });
});

describe("classifyCidr", () => {
  it.each([
    ["0.0.0.0/0", "internet"],
    ["::/0", "internet"],
    ["208.236.235.254/0", "internet"],
    ["0.0.0.0/16", "public-network"], // 0.0.0.0/8 is not private space, but a /16 is narrower than /8
    ["52.0.0.0/7", "internet"],
    ["52.0.0.0/8", "public-network"],
    ["198.51.100.7/32", "public-network"],
    ["10.0.0.0/8", "private"],
    ["10.0.0.0/7", "internet"], // reaches 11.0.0.0/8, public space
    ["172.16.0.0/12", "private"],
    ["192.168.10.0/24", "private"],
    ["100.64.0.0/10", "private"],
    ["169.254.169.254/32", "private"],
    ["2600::/16", "internet"],
    ["2001:db8::/32", "public-network"],
    ["2001:db8:1234::/48", "public-network"],
    ["fd00:1234::/32", "private"],
    ["fc00::/7", "private"],
    ["fe80::/10", "private"],
  ])("%s is %s", (input, expected) => {
    expect(classifyCidr(parseCidr(input))).toBe(expected);
  });
});

const ipv4Cidr = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
    fc.integer({ min: 0, max: 32 }),
  )
  .map(([bytes, prefix]) => `${bytes.join(".")}/${prefix}`);

const ipv6Cidr = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
    fc.integer({ min: 0, max: 128 }),
  )
  .map(([groups, prefix]) => `${groups.map((g) => g.toString(16)).join(":")}/${prefix}`);

const anyCidr = fc.oneof(ipv4Cidr, ipv6Cidr);

describe("CIDR properties", () => {
  it("canonical form is a fixed point and round-trips", () => {
    fc.assert(
      fc.property(anyCidr, (text) => {
        const canonical = canonicalCidr(text);
        expect(canonicalCidr(canonical)).toBe(canonical);
        expect(formatCidr(parseCidr(canonical))).toBe(canonical);
      }),
    );
  });

  it("a network contains its own canonical form and every narrower network inside it", () => {
    fc.assert(
      fc.property(anyCidr, fc.integer({ min: 0, max: 128 }), (text, extra) => {
        const outer = parseCidr(text);
        expect(cidrContains(outer, parseCidr(canonicalCidr(text)))).toBe(true);
        const max = outer.version === 4 ? 32 : 128;
        const narrower = parseCidr(
          `${text.split("/")[0]}/${Math.min(max, outer.prefix + (extra % (max + 1)))}`,
        );
        expect(cidrContains(outer, narrower)).toBe(true);
        if (narrower.prefix > outer.prefix) expect(cidrContains(narrower, outer)).toBe(false);
      }),
    );
  });

  it("anything broader than /8 (IPv4) or /32 (IPv6) is private or the internet, never a specific network", () => {
    fc.assert(
      fc.property(anyCidr, (text) => {
        const cidr = parseCidr(text);
        const limit = cidr.version === 4 ? 8 : 32;
        const reach = classifyCidr(cidr);
        if (cidr.prefix < limit) expect(reach).not.toBe("public-network");
        if (cidr.prefix === 0) expect(reach).toBe("internet");
      }),
    );
  });

  it("narrowing a network never makes it more exposed", () => {
    const rank = { private: 0, "public-network": 1, internet: 2 } as const;
    fc.assert(
      fc.property(ipv4Cidr, fc.integer({ min: 1, max: 32 }), (text, extra) => {
        const wide = parseCidr(text);
        const narrow = parseCidr(`${text.split("/")[0]}/${Math.min(32, wide.prefix + extra)}`);
        expect(rank[classifyCidr(narrow)]).toBeLessThanOrEqual(rank[classifyCidr(wide)]);
      }),
    );
  });
});

describe("cidrCoveredBy (the union of several ranges)", () => {
  const blocks = (...texts: string[]) => texts.map(parseCidr);

  it.each([
    ["10.0.0.0/15", ["10.0.0.0/16", "10.1.0.0/16"], true],
    ["10.0.0.0/14", ["10.0.0.0/16", "10.1.0.0/16"], false],
    ["10.0.0.0/15", ["10.1.0.0/16", "10.0.0.0/17", "10.0.128.0/17"], true],
    ["10.0.0.0/15", ["10.0.0.0/16"], false],
    ["10.0.3.0/24", ["10.0.0.0/16"], true],
    ["10.0.0.0/16", [], false],
    ["2001:db8::/47", ["2001:db8::/48", "2001:db8:1::/48"], true],
    ["10.0.0.0/16", ["::/0"], false],
  ])("%s inside the union of %j: %s", (inner, outers, covered) => {
    expect(cidrCoveredBy(parseCidr(inner), blocks(...outers))).toBe(covered);
  });

  it("agrees with address-by-address enumeration inside a /24", () => {
    const range = fc.record({
      last: fc.integer({ min: 0, max: 255 }),
      prefix: fc.integer({ min: 24, max: 32 }),
    });
    const text = (r: { last: number; prefix: number }) => `192.0.2.${r.last}/${r.prefix}`;
    const addressesOf = (cidr: ReturnType<typeof parseCidr>) =>
      [...Array(256).keys()].filter((last) => cidrContains(cidr, parseCidr(`192.0.2.${last}`)));
    fc.assert(
      fc.property(range, fc.array(range, { maxLength: 6 }), (inner, outers) => {
        const innerCidr = parseCidr(text(inner));
        const outerCidrs = outers.map((o) => parseCidr(text(o)));
        const covered = addressesOf(innerCidr).every((last) =>
          outerCidrs.some((o) => cidrContains(o, parseCidr(`192.0.2.${last}`))),
        );
        expect(cidrCoveredBy(innerCidr, outerCidrs)).toBe(covered);
      }),
      { numRuns: 500, seed: 2049 },
    );
  });
});
