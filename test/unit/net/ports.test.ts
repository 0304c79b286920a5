import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ALL_PORTS,
  exposedSensitivePorts,
  normalizeProtocol,
  portRangeOf,
  rangeContainsPort,
} from "../../../shared/core/net/ports.ts";

const SENSITIVE = [2049, 111, 22, 3389, 445];

describe("normalizeProtocol", () => {
  it.each([
    ["-1", "all"],
    [-1, "all"],
    ["TCP", "tcp"],
    ["6", "tcp"],
    ["17", "udp"],
    ["icmp", "icmp"],
    ["58", "icmpv6"],
    ["50", "proto-50"],
  ])("%s → %s", (input, expected) => {
    expect(normalizeProtocol(input)).toBe(expected);
  });

  it("rejects what is not a protocol", () => {
    expect(normalizeProtocol("sctp-ish")).toBeUndefined();
    expect(normalizeProtocol("256")).toBeUndefined();
  });
});

describe("exposedSensitivePorts", () => {
  it("all traffic exposes every sensitive port", () => {
    expect(exposedSensitivePorts("all", ALL_PORTS, SENSITIVE)).toEqual(SENSITIVE);
  });
  it("a wide TCP range contains the sensitive ports inside it", () => {
    expect(exposedSensitivePorts("tcp", { from: 0, to: 65535 }, SENSITIVE)).toEqual(SENSITIVE);
    expect(exposedSensitivePorts("tcp", { from: 2000, to: 2100 }, SENSITIVE)).toEqual([2049]);
  });
  it("a range next to a sensitive port does not expose it", () => {
    expect(exposedSensitivePorts("tcp", { from: 2050, to: 3388 }, SENSITIVE)).toEqual([]);
  });
  it("UDP counts like TCP (NFSv3 and rpcbind speak both)", () => {
    expect(exposedSensitivePorts("udp", { from: 111, to: 111 }, SENSITIVE)).toEqual([111]);
  });
  it("ICMP and other IP protocols carry no ports", () => {
    expect(exposedSensitivePorts("icmp", { from: 0, to: 65535 }, SENSITIVE)).toEqual([]);
    expect(exposedSensitivePorts("proto-50", ALL_PORTS, SENSITIVE)).toEqual([]);
  });
  it("missing or -1 bounds on TCP mean every port", () => {
    expect(portRangeOf(undefined, undefined)).toEqual(ALL_PORTS);
    expect(portRangeOf(-1, -1)).toEqual(ALL_PORTS);
  });
});

describe("port-range properties", () => {
  const port = fc.integer({ min: 0, max: 65535 });
  it("a TCP range exposes exactly the sensitive ports between its bounds", () => {
    fc.assert(
      fc.property(port, port, fc.uniqueArray(port, { maxLength: 8 }), (a, b, sensitive) => {
        const range = portRangeOf(a, b);
        const exposed = exposedSensitivePorts("tcp", range, sensitive);
        for (const p of sensitive) {
          expect(exposed.includes(p)).toBe(p >= Math.min(a, b) && p <= Math.max(a, b));
        }
      }),
    );
  });
  it("a range contains both of its bounds, whichever order they come in", () => {
    fc.assert(
      fc.property(port, port, (a, b) => {
        const range = portRangeOf(a, b);
        expect(rangeContainsPort(range, a) && rangeContainsPort(range, b)).toBe(true);
      }),
    );
  });
});
