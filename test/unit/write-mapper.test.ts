// Row mapping and validation: timestamp forms, subtable names from a field or a template, msg.table / msg.tags
// overrides, and a clear reason (index + field) for every rejected row without touching its batch-mates.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { declaredSchema, instantIn, readInstant, RowMapper, type MapOptions } from "../../lib/write";

const METERS = declaredSchema("ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT", "groupid INT, location VARCHAR(16)");
const OPTS: MapOptions = { tsField: "ts", tsUnit: "ms", subtable: { mode: "template", template: "d_${groupid}" }, strict: false };
const row = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ts: 1700000000000,
  current: 10.5,
  voltage: 220,
  phase: 0.25,
  groupid: 3,
  location: "California",
  ...extra,
});

describe("timestamps", () => {
  it("reads Date, epoch ms, epoch in DB precision, bigint and ISO-8601 with sub-ms digits", () => {
    const d = new Date(Date.UTC(2024, 4, 1, 3, 4, 5, 123));
    const ms = d.getTime();
    const from = (v: unknown, unit: "db" | "ms" = "ms") => readInstant(v, unit);
    assert.deepEqual(from(d), { ms, ns: 0 });
    assert.deepEqual(from(ms), { ms, ns: 0 });
    assert.deepEqual(from(1714532645123456, "db"), { raw: 1714532645123456 });
    assert.deepEqual(from(1714532645123456789n, "db"), { raw: 1714532645123456789n });
    const iso = from("2024-05-01T03:04:05.123456789Z");
    assert.deepEqual(iso, { ms, ns: 456789 });
    assert.equal(instantIn(iso as never, "ms"), ms);
    assert.equal(instantIn(iso as never, "us"), ms * 1000 + 456);
    assert.equal(instantIn(iso as never, "ns"), BigInt(ms) * 1_000_000n + 456789n);
    assert.deepEqual(from("2024-05-01T05:04:05.123+02:00"), { ms, ns: 0 });
    assert.deepEqual(from("2024-05-01 03:04:05.123Z"), { ms, ns: 0 });
    assert.equal(instantIn({ ms: 1.5e12, ns: 0 }, "ns"), 1_500_000_000_000_000_000n);
    assert.equal(instantIn(1.5e12, "ns"), 1_500_000_000_000_000_000n, "a plain number is epoch ms");
    assert.equal(instantIn(1.5e12, "us"), 1.5e15);
    assert.deepEqual(from(ms + 0.5), { ms, ns: 500000 });
  });

  it("explains unusable timestamps", () => {
    assert.match(String(readInstant(undefined, "ms")), /missing timestamp/);
    assert.match(String(readInstant(new Date("nope"), "ms")), /invalid Date/);
    assert.match(String(readInstant(NaN, "ms")), /not a finite number/);
    assert.match(String(readInstant(1.5, "db")), /not an integer in the database precision/);
    assert.match(String(readInstant("2024-05-01T03:04:05", "ms")), /not an ISO-8601 timestamp with a time zone/);
    assert.match(String(readInstant("2024-02-30T03:04:05Z", "ms")), /not a valid date/);
    assert.match(String(readInstant(true, "ms")), /expected a Date, an epoch number or an ISO-8601 string, got boolean/);
  });
});

describe("timestamps of the years 0000-0099", () => {
  it("are not moved to 1900-1999 (Date.UTC's two-digit year rule)", () => {
    for (const [iso, year] of [["0000-01-01T00:00:00Z", 0], ["0050-06-15T12:30:00.250Z", 50], ["0099-12-31T23:59:59Z", 99], ["0100-01-01T00:00:00Z", 100]] as const) {
      const t = readInstant(iso, "ms");
      assert.ok(typeof t === "object" && t.ms !== undefined, String(t));
      assert.equal(new Date(t.ms).getUTCFullYear(), year, iso);
      assert.equal(new Date(t.ms).toISOString().slice(0, 19), iso.slice(0, 19));
    }
    const withZone = readInstant("0050-01-01T01:00:00+01:00", "ms");
    assert.equal(typeof withZone === "object" && new Date(withZone.ms ?? 0).toISOString(), "0050-01-01T00:00:00.000Z");
    assert.match(String(readInstant("0050-02-30T00:00:00Z", "ms")), /is not a valid date/);
  });
});

describe("RowMapper", () => {
  it("maps the demo's rows: subtable from d_${groupid}, tags and columns in schema order", () => {
    const m = new RowMapper(METERS, OPTS);
    const { rows, errors } = m.map([row(), row({ groupid: 7, ts: 1700000000001 })]);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      rows.map((r) => [r.index, r.table, r.tags, r.values, r.ts]),
      [
        [0, "d_3", [3, "California"], [10.5, 220, 0.25], 1700000000000],
        [1, "d_7", [7, "California"], [10.5, 220, 0.25], 1700000000001],
      ],
    );
  });

  it("takes one object as a one-row payload and missing columns as NULL", () => {
    const m = new RowMapper(METERS, OPTS);
    const { rows } = m.map({ ts: 1, groupid: 1, current: 1 });
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0].values, [1, null, null]);
    assert.deepEqual(rows[0].tags, [1, null]);
  });

  it("takes the subtable name from a field when configured", () => {
    const m = new RowMapper(METERS, { ...OPTS, subtable: { mode: "field", field: "tbname" }, strict: true });
    const { rows, errors } = m.map([row({ tbname: "meter_a" }), row({ tbname: 5 })]);
    assert.equal(rows[0].table, "meter_a");
    assert.deepEqual(errors, [{ index: 1, field: "tbname", reason: "subtable name field tbname is missing or not a string" }]);
  });

  it("lets msg.table and msg.tags override the row fields", () => {
    const m = new RowMapper(METERS, OPTS);
    const { rows } = m.map([row(), row({ ts: 2 })], { table: "fixed", tags: { location: "Texas" } });
    assert.deepEqual(rows.map((r) => [r.table, r.tags]), [
      ["fixed", [3, "Texas"]],
      ["fixed", [3, "Texas"]],
    ]);
    const { rows: r2 } = m.map([row()], { tags: { groupid: 9 } });
    assert.equal(r2[0].table, "d_9", "the template sees the overridden tag");
  });

  it("rejects bad rows with index, field and reason, and keeps the good ones", () => {
    const m = new RowMapper(METERS, { ...OPTS, strict: true });
    const payload = [
      row(),
      row({ ts: undefined }),
      row({ voltage: "220" }),
      row({ current: NaN }),
      row({ location: "x".repeat(17) }),
      row({ extra: 1 }),
      row({ voltage: 2 ** 31 }),
      row({ groupid: undefined }),
      "not a row",
      row({ ts: "yesterday" }),
      row({ voltage: 1.5 }),
      row({ location: "é".repeat(9) }),
      row({ ts: 5 }),
    ];
    const { rows, errors } = m.map(payload);
    assert.deepEqual(rows.map((r) => r.index), [0, 12]);
    assert.deepEqual(
      errors.map((e) => [e.index, e.field]),
      [
        [1, "ts"],
        [2, "voltage"],
        [3, "current"],
        [4, "location"],
        [5, "extra"],
        [6, "voltage"],
        [7, "groupid"],
        [8, undefined],
        [9, "ts"],
        [10, "voltage"],
        [11, "location"],
      ],
    );
    const reasons = errors.map((e) => e.reason);
    assert.match(reasons[0], /timestamp: missing timestamp/);
    assert.match(reasons[1], /column voltage: expected an integer for INT, got string/);
    assert.match(reasons[2], /column current: NaN is not allowed/);
    assert.match(reasons[3], /tag location: string of 17 bytes is longer than VARCHAR\(16\)/);
    assert.match(reasons[4], /unknown field extra \(strict mode\)/);
    assert.match(reasons[5], /out of range for INT/);
    assert.match(reasons[6], /subtable name template needs groupid, got nothing/);
    assert.match(reasons[7], /row is not an object \(got string\)/);
    assert.match(reasons[9], /1.5 is not an integer/);
    assert.match(reasons[10], /18 bytes is longer than VARCHAR\(16\)/, "VARCHAR length counts UTF-8 bytes");
  });

  it("accepts unknown fields when not strict, and refuses unsafe subtable names", () => {
    const m = new RowMapper(METERS, { ...OPTS, subtable: { mode: "template", template: "d_${location}" } });
    const { rows, errors } = m.map([row({ extra: 1, location: "ok_1" }), row({ location: "a b" })]);
    assert.equal(rows.length, 1);
    assert.match(errors[0].reason, /subtable name "d_a b" must be 1-192 letters, digits or _/);
  });

  it("refuses a template over a non-identifier", () => {
    assert.throws(() => new RowMapper(METERS, { ...OPTS, subtable: { mode: "template", template: "d_${a-b}" } }), /invalid template field name/);
    assert.throws(() => new RowMapper(METERS, { ...OPTS, subtable: { mode: "template", template: "d_${groupid}; DROP" } }), /invalid subtable name template/);
    assert.throws(() => new RowMapper(METERS, { ...OPTS, subtable: { mode: "template", template: "d.${groupid}" } }), /only letters, digits, _/);
  });
});
