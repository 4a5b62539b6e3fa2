// tdengine-write's fast path: numeric columns held in typed arrays (with NULL masks) from the mapper to the stmt2
// encoder. What reaches TDengine must be byte for byte what plain arrays of the same values give, NULLs included,
// and a value that does not fit must still fail with its row and field.
import assert from "node:assert/strict";
import { waitFor } from "../support/wait";
import { describe, it } from "node:test";
import type { Stmt2, Stmt2Field, TableBind, TdengineClientApi } from "../../lib/tdengine/api";
import { TdengineError } from "../../lib/tdengine/errors";
import { encodeStmt2InsertBind } from "../../lib/tdengine/stmt2-bind-encoder";
import { declaredSchema, RowMapper, WritePipeline, type MapOptions, type Precision, type TableSchema } from "../../lib/write";

const f = (name: string, type: number, bindType: Stmt2Field["bindType"], precision: Precision = "ms"): Stmt2Field => ({ name, type, precision, scale: 0, bytes: 0, bindType });

/** The same bind with every column a plain array, NULLs as null. */
function plain(tables: TableBind[]): TableBind[] {
  return tables.map((t) => ({
    table: t.table,
    tags: t.tags,
    columns: t.columns.map((col, c) => Array.from(col as ArrayLike<unknown>, (v, r) => (t.nulls?.[c]?.[r] === 1 ? null : v))),
  }));
}

describe("stmt2 encoder, typed columns", () => {
  const fields = [
    f("ts", 9, "column"),
    f("i8", 2, "column"),
    f("i16", 3, "column"),
    f("i32", 4, "column"),
    f("i64", 5, "column"),
    f("u8", 11, "column"),
    f("u16", 12, "column"),
    f("u32", 13, "column"),
    f("u64", 14, "column"),
    f("f32", 6, "column"),
    f("f64", 7, "column"),
  ];
  const values: number[][] = [
    [1700000000000, -1, 2 ** 40, -(2 ** 52)],
    [-128, 127, 0, -1],
    [-32768, 32767, 5, -5],
    [-2147483648, 2147483647, 220, -0],
    [-(2 ** 53) + 1, 2 ** 53 - 1, -1, 0],
    [0, 255, 7, 8],
    [0, 65535, 9, 10],
    [0, 4294967295, 11, 12],
    [0, 2 ** 53 - 1, 13, 14],
    [1.1, -3.4e38, NaN, 0.5],
    [1.1, -1e300, Infinity, 0.25],
  ];
  // Row 2 NULL in every column but ts; row 3 NULL in f32 only.
  const nulls = values.map((_, c) => (c === 0 ? undefined : Uint8Array.from([0, 0, 1, c === 9 ? 1 : 0])));
  const expected = encodeStmt2InsertBind(fields, [{ columns: values.map((col, c) => col.map((v, r) => (nulls[c]?.[r] === 1 ? null : v))) }]);

  it("Float64Array columns with NULL masks give the bytes of plain arrays", () => {
    const payload = encodeStmt2InsertBind(fields, [{ columns: values.map((col) => Float64Array.from(col)), nulls }]);
    assert.deepEqual(new Uint8Array(payload), new Uint8Array(expected));
  });

  it("columns of the wire type's own typed array are copied as they are, NULL slots zeroed", () => {
    const native = [BigInt64Array.from(values[0].map(BigInt)), Int8Array.from(values[1]), Int16Array.from(values[2]), Int32Array.from(values[3]), BigInt64Array.from(values[4].map(BigInt)), Uint8Array.from(values[5]), Uint16Array.from(values[6]), Uint32Array.from(values[7]), BigUint64Array.from(values[8].map(BigInt)), Float32Array.from(values[9]), Float64Array.from(values[10])];
    const payload = encodeStmt2InsertBind(fields, [{ columns: native, nulls }]);
    assert.deepEqual(new Uint8Array(payload), new Uint8Array(expected));
  });

  it("a value that does not fit fails with its column and row, as in a plain array", () => {
    const one = (type: number, v: number, precision: Precision = "ms") => () => encodeStmt2InsertBind([f("x", type, "column", precision)], [{ columns: [Float64Array.from([1, v])] }]);
    const invalidAt = (re: RegExp) => (e: unknown) => e instanceof TdengineError && e.kind === "invalid" && re.test(e.message) && /row 1/.test(e.message) && e.field === "x";
    assert.throws(one(4, 2 ** 31), invalidAt(/-2147483648\.\.2147483647/));
    assert.throws(one(2, 128), invalidAt(/-128\.\.127/));
    assert.throws(one(13, -1), invalidAt(/0\.\.4294967295/));
    assert.throws(one(4, 1.5), invalidAt(/an integer/));
    assert.throws(one(9, 2 ** 60), invalidAt(/integer/));
    assert.throws(one(14, -1), invalidAt(/integer/));
  });
});

const ALL = declaredSchema(
  "ts TIMESTAMP, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, u8 TINYINT UNSIGNED, u32 INT UNSIGNED, f32 FLOAT, f64 DOUBLE, ok BOOL, s VARCHAR(8), n NCHAR(4)",
  "g INT",
);
const OPTS: MapOptions = { tsField: "ts", tsUnit: "ms", subtable: { mode: "template", template: "t_${g}" }, strict: false };
const good = (i: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ts: 1700000000000 + i, i8: -i, i16: 300 + i, i32: 70000 + i, i64: 2 ** 40 + i, u8: i, u32: 3e9 + i, f32: 1.1 + i, f64: 0.1 * i, ok: i % 2 === 0, s: `s${i}`, n: "né", g: i % 3, ...extra });

describe("RowMapper, typed columns", () => {
  it("values and NULLs read back as given, whether a row takes the fast or the general path", () => {
    const m = new RowMapper(ALL, OPTS);
    const payload = [good(0), good(1, { i32: null, f32: undefined, s: null }), good(2, { f64: null, ok: null }), good(3)];
    const { rows, errors } = m.map(payload);
    assert.deepEqual(errors, []);
    const cols = ALL.columns.slice(1).map((c) => c.name);
    for (const r of rows) {
      const want = payload[r.index];
      assert.deepEqual(r.values, cols.map((c) => (want[c] === undefined ? null : want[c])), `row ${r.index}`);
      assert.equal(r.ts, want.ts);
    }
  });

  it("a row rejected after one of its values was marked NULL leaves no NULL behind for the next row", () => {
    // Row 0: i8 NULL, then a bad i32 (rejected); row 1 takes its place with i8 set.
    const byColumn = new RowMapper(ALL, OPTS).map([good(0, { i8: null, i32: 1.5 }), good(1), good(3)]);
    assert.deepEqual(byColumn.errors.map((e) => [e.index, e.field]), [[0, "i32"]]);
    assert.deepEqual(byColumn.rows.map((r) => [r.index, r.values[0]]), [[1, -1], [2, -3]]);
    // Row 0: f32 NULL, then no subtable name (checked after the values).
    const bySubtable = new RowMapper(ALL, { ...OPTS, subtable: { mode: "field", field: "tb" } }).map([good(0, { f32: null }), good(1, { tb: "t1" })]);
    assert.deepEqual(bySubtable.errors.map((e) => [e.index, e.field]), [[0, "tb"]]);
    assert.deepEqual(bySubtable.rows.map((r) => [r.index, r.values[6]]), [[1, 2.1]]);
  });
});

/** A TableBind's own copy (typed columns stay typed). */
function copyBind(t: TableBind): TableBind {
  const copy = <T,>(c: T): T => (c instanceof Float64Array || c instanceof Uint8Array ? (c.slice() as T) : Array.isArray(c) ? ([...c] as T) : c);
  return { ...t, columns: t.columns.map(copy), nulls: t.nulls?.map(copy) };
}

/**
 * A client whose statement keeps a copy of the TableBinds it is given (typed columns and all), taken during bind:
 * the writer reuses its column buffers once a bind has settled, as Stmt2.bind allows.
 */
function capturingClient(schema: TableSchema, precision: Precision): { client: TdengineClientApi; fields: Stmt2Field[]; binds: TableBind[][]; gate: { hold?: Promise<void> } } {
  const fields = [f("tbname", 8, "tbname"), ...schema.tags.map((t) => f(t.name, t.type, "tag")), ...schema.columns.map((c) => f(c.name, c.type, "column", precision))];
  const binds: TableBind[][] = [];
  /** While `hold` is set, execs wait for it: a batch held in flight, so that later messages gather. */
  const gate: { hold?: Promise<void> } = {};
  const stmt = { id: 1, isInsert: true, fields, bind: async (t: TableBind[]) => void binds.push(t.map(copyBind)), exec: async () => (await gate.hold, 0), close: async () => undefined } as unknown as Stmt2;
  const client = { closed: false, exec: async () => ({ affectedRows: 0 }), prepare: async () => stmt } as unknown as TdengineClientApi;
  return { client, fields, binds, gate };
}

describe("Writer, typed columns", () => {
  for (const precision of ["ms", "us"] as const) {
    it(`binds several messages' rows grouped by subtable, NULLs kept, bytes as plain arrays give (${precision})`, async () => {
      const { client, fields, binds, gate } = capturingClient(ALL, precision);
      const p = new WritePipeline({ database: "db", stable: "st", schema: ALL, map: OPTS, batchRows: 9, flushMs: 5, getClient: async () => client });
      // A first message held in flight (an idle writer writes it at once), so that the next two gather.
      let release!: () => void;
      gate.hold = new Promise((r) => (release = r));
      const first = p.write({ payload: [good(20)] });
      await waitFor("the first message in flight", () => binds.length === 1);
      const a = [good(0), good(1, { i8: null, f32: null }), good(2, { u32: -1 }), good(3)];
      const b = [good(4, { f64: null }), good(5), good(6), good(7, { i16: null }), good(8), good(9)];
      const both = Promise.all([p.write({ payload: a }), p.write({ payload: b })]);
      await waitFor("both messages buffered", () => p.pendingRows === 1 + 9);
      gate.hold = undefined;
      release();
      await first;
      const [ra, rb] = await both;
      assert.deepEqual(ra.failed.map((x) => [x.index, x.field]), [[2, "u32"]]);
      assert.equal(ra.written + rb.written, 9);
      await p.close(1000);
      assert.equal(binds.length, 2, "one bind of the 9 good rows after the first message's");
      const bound = binds[1];
      assert.ok(bound.some((t) => t.columns.some((c) => c instanceof Float64Array)), "numeric columns stay typed");
      const flat = plain(bound);
      assert.deepEqual(new Uint8Array(encodeStmt2InsertBind(fields, bound)), new Uint8Array(encodeStmt2InsertBind(fields, flat)));
      // Subtable t_1 holds rows 1, 4, 7 in that order, with their NULLs.
      const t1 = flat.find((t) => t.table === "t_1")!;
      const scale = precision === "us" ? 1000 : 1;
      assert.deepEqual(t1.columns[0], [1, 4, 7].map((i) => (1700000000000 + i) * scale));
      assert.deepEqual(t1.columns[1], [null, -4, -7], "i8");
      assert.deepEqual(t1.columns[2], [301, 304, null], "i16");
      assert.deepEqual(t1.columns[7], [null, 5.1, 8.1], "f32 as given (rounded to 32 bits only on the wire)");
      assert.deepEqual(t1.columns[8], [0.1, null, 0.1 * 7], "f64");
      assert.deepEqual(t1.columns[11], ["né", "né", "né"], "nchar");
    });
  }
});
