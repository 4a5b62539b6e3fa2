// The bad-input corpus (test/data/bad-input-corpus.json) through a real tdengine-write node (test helper) into
// the emulator. Each case either lands exactly as sent (read back from the emulator) or fails catchably: a
// Catch node gets the original message, msg.errors names the row and the field, and the row's batch-mates are
// written. Identifiers that try to inject SQL (super table, subtable, tag and column names, in the
// configuration or in msg overrides) are refused. The process never crashes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator";
import helper from "../support/helper";
import { nodeModule, root } from "../support/package-info";
import { waitFor } from "../support/wait";

const configNode = nodeModule("tdengine-config");
const writeNode = nodeModule("tdengine-write");

interface Case {
  name: string;
  payload: unknown;
  expect: "written" | "rejected";
  field?: string;
  /** For non-object payloads: the index the error names. */
  index?: number;
  /** For array payloads: [index, field] of each rejected row, and how many rows land. */
  errors?: Array<[number, string | null]>;
  rows?: number;
  msg?: Record<string, unknown>;
  level?: "message";
  stored?: Record<string, unknown>;
  /** Text every rejection reason of the case contains. */
  reason?: string;
}
interface Corpus {
  schema: { columns: string; tags: string; subtable: string };
  cases: Case[];
}

export const corpus: Corpus = JSON.parse(readFileSync(join(root, "test", "data", "bad-input-corpus.json"), "utf8"));

/** Turns the corpus's JSON markers back into the values they stand for. */
export function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  if ("$nan" in o) return NaN;
  if ("$inf" in o) return (o.$inf as number) < 0 ? -Infinity : Infinity;
  if ("$negzero" in o) return -0;
  if ("$bigint" in o) return BigInt(o.$bigint as string);
  if ("$date" in o) return new Date(o.$date as string);
  if ("$invalidDate" in o) return new Date(NaN);
  if ("$buffer" in o) return Buffer.from(o.$buffer as string, "hex");
  if ("$repeat" in o) return (o.$repeat as [string, number])[0].repeat((o.$repeat as [string, number])[1]);
  if ("$undefined" in o) return undefined;
  // JSON.parse makes "__proto__" an own property; keep it that way (an assignment would set the prototype).
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) Object.defineProperty(out, k, { value: decode(o[k]), enumerable: true, writable: true, configurable: true });
  return out;
}

const T = 1700000000000;
const MATES = [
  { ts: T + 1, groupid: 7, location: "mate", current: 2, voltage: 1 },
  { ts: T + 2, groupid: 7, location: "mate", current: 3, voltage: 2 },
];
const COLS = ["ts", "current", "voltage", "phase", "label", "ok", "energy", "small", "note", "raw", "groupid", "location"];

interface Msg {
  topic: string;
  payload: unknown;
  errors?: Array<{ index: number; field?: string; reason: string }>;
  error?: { message: string };
}

function expectedTs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return Math.floor(v);
  const s = String(v);
  const m = /\.(\d+)/.exec(s);
  // Date.parse keeps milliseconds only; the ms database drops the finer digits the same way.
  return Date.parse(m ? s.replace(m[0], "." + m[1].slice(0, 3)) : s);
}

function same(col: string, got: unknown, want: unknown): boolean {
  if (want === undefined || want === null) return got === null;
  if (col === "ts") return Number(got) === expectedTs(want);
  if (col === "current") return Number(got) === Math.fround(want as number);
  if (col === "energy") return BigInt(got as bigint) === BigInt(want as bigint);
  if (want instanceof Uint8Array) return got instanceof Uint8Array && Buffer.from(got).equals(Buffer.from(want));
  if (typeof want === "number") return Number(got) === want;
  return got === want;
}

describe("tdengine-write with the bad-input corpus", () => {
  let emu: Emulator;
  const db = "corpus";
  const out: Msg[] = [];
  const caught: Msg[] = [];
  const results = { cases: 0, written: 0, rejected: 0, rowsLanded: 0 };

  before(async () => {
    emu = await startEmulator();
    await helper.startServer();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
    await emu.stop();
    console.log(`# bad-input corpus figures: ${JSON.stringify(results)}`);
  });

  function flow(write: Record<string, unknown> = {}): object[] {
    return [
      { id: "tab", type: "tab", label: "corpus" },
      { id: "cfg", type: "tdengine-config", url: emu.wsUrl, database: db, timeout: 2000, maxBackoff: 200 },
      {
        id: "w", type: "tdengine-write", z: "tab", server: "cfg", stable: "meters", subtableMode: "template",
        subtable: corpus.schema.subtable, tsField: "ts", tsUnit: "ms", columns: corpus.schema.columns, tags: corpus.schema.tags,
        autoCreate: true, precision: "ms", strict: true, batchSize: 1000, flushInterval: 5, output: true, wires: [["out"]], ...write,
      },
      { id: "out", type: "helper", z: "tab" },
      { id: "catcher", type: "catch", z: "tab", scope: ["w"], wires: [["caught"]] },
      { id: "caught", type: "helper", z: "tab" },
    ];
  }
  const CREDS = { cfg: { user: "root", password: "taosdata" } };

  function rowsOf(stable: string): Record<string, unknown>[] {
    try {
      const r = emu.sql(`SELECT ${COLS.join(", ")}, tbname FROM ${db}.${stable}`);
      return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
    } catch (err) {
      if (/not exist/i.test((err as Error).message)) return []; // nothing was ever written to it
      throw err;
    }
  }

  it(`has at least 100 cases, every one well-formed`, () => {
    assert.ok(corpus.cases.length >= 100, `${corpus.cases.length} cases`);
    assert.equal(new Set(corpus.cases.map((c) => c.name)).size, corpus.cases.length, "case names are unique");
    for (const c of corpus.cases) assert.ok(c.expect === "written" || c.expect === "rejected", c.name);
  });

  it("each case is written exactly as sent or rejected naming its row and field; batch-mates are written", async (t) => {
    await helper.load([configNode, writeNode], flow(), CREDS);
    t.after(() => helper.unload());
    helper.getNode("out").on("input", (m: Msg) => out.push(m));
    helper.getNode("caught").on("input", (m: Msg) => caught.push(m));
    const w = helper.getNode("w");
    const problems: string[] = [];
    for (const [i, c] of corpus.cases.entries()) {
      const topic = `case ${i}: ${c.name}`;
      const stable = `c${i}`;
      const decoded = decode(c.payload);
      const single = !Array.isArray(c.payload) && c.payload !== null && typeof c.payload === "object" && !("$date" in c.payload) && !("$undefined" in c.payload);
      const payload = single ? [MATES[0], decoded, MATES[1]] : decoded;
      w.receive({ topic, payload, stable, ...(c.msg ?? {}) });
      const messageLevel = c.level === "message";
      await waitFor(topic, () =>
        c.expect === "written" ? out.some((m) => m.topic === topic) : caught.some((m) => m.topic === topic) && (messageLevel || out.some((m) => m.topic === topic)),
      );
      results.cases++;
      const rows = rowsOf(stable);
      results.rowsLanded += rows.length;
      // Subtable names are unique per database: the next case's d_1 and d_7 belong to its own super table.
      emu.sql(`DROP STABLE IF EXISTS ${db}.${stable}`);
      const check = (ok: boolean, what: string): void => {
        if (!ok) problems.push(`${topic}: ${what}`);
      };
      const caughtMsg = caught.find((m) => m.topic === topic);
      if (c.expect === "written") {
        results.written++;
        const expectedRows = single ? 3 : (c.rows ?? (Array.isArray(decoded) ? decoded.length : 1));
        check(rows.length === expectedRows, `expected ${expectedRows} rows, found ${rows.length}`);
        if (single) {
          const row = rows.find((r) => !(r.tbname === "d_7" && (Number(r.ts) === T + 1 || Number(r.ts) === T + 2)) || c.msg?.table);
          const sent = decoded as Record<string, unknown>;
          const stored = c.stored ? decode(c.stored) as Record<string, unknown> : {};
          const mine = c.msg?.table ? rows.find((r) => Number(r.ts) === expectedTs(sent.ts)) : row;
          if (!mine) check(false, "its row is not there");
          else {
            const tags = (c.msg?.tags ?? {}) as Record<string, unknown>;
            for (const col of COLS) {
              const want = col in stored ? stored[col] : col in tags ? tags[col] : sent[col];
              check(same(col, mine[col], want), `${col}: stored ${String(mine[col])}, sent ${String(want)}`);
            }
          }
        }
      } else {
        results.rejected++;
        check(caughtMsg !== undefined, "no catchable error");
        if (!caughtMsg) continue;
        // Node-RED hands the Catch node a clone of the message (equal, not identical; a clone cannot keep an
        // invalid Date or an own __proto__ key, so those are compared through their batch-mates).
        const mates = (p: unknown): unknown => (single && Array.isArray(p) ? [p[0], p[2]] : p);
        check(isDeepStrictEqual(mates(caughtMsg.payload), mates(payload)), "the Catch node got the original payload");
        if (messageLevel) {
          check(new RegExp(c.field!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).test(caughtMsg.error?.message ?? ""), `error "${caughtMsg.error?.message}" names ${c.field}`);
          check(rows.length === 0, `a refused message wrote ${rows.length} rows`);
          continue;
        }
        const want: Array<[number, string | null]> = c.errors ?? (single ? [[1, c.field ?? null]] : [[c.index ?? 0, c.field ?? null]]);
        const got = (caughtMsg.errors ?? []).map((e) => [e.index, e.field ?? null]);
        check(JSON.stringify(got) === JSON.stringify(want), `errors ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
        for (const e of caughtMsg.errors ?? []) {
          check(typeof e.reason === "string" && e.reason.length > 5, `a reason for row ${e.index}`);
          if (c.reason && (single ? e.index === 1 : true)) check(e.reason.includes(c.reason), `reason "${e.reason}" says "${c.reason}"`);
        }
        const landed = c.rows ?? (single ? 2 : 0);
        check(rows.length === landed, `batch-mates: expected ${landed} rows written, found ${rows.length}`);
      }
    }
    // A written case must never also have been reported as failed.
    for (const [i, c] of corpus.cases.entries()) {
      if (c.expect === "written" && caught.some((m) => m.topic === `case ${i}: ${c.name}`)) problems.push(`case ${i}: ${c.name}: also caught`);
    }
    assert.deepEqual(problems, []);
  });

  it("refuses a configuration whose super table, column or tag names try to inject SQL, catchably per message", async () => {
    const attempts: Array<Record<string, unknown>> = [
      { stable: "meters; DROP DATABASE corpus" },
      { stable: "`meters`" },
      { columns: "ts TIMESTAMP, `v` INT); DROP DATABASE corpus; --" },
      { columns: "ts TIMESTAMP, v INT, \"x y\" INT" },
      { tags: "g INT) ; DROP DATABASE corpus" },
      { tags: "g' INT" },
      { subtable: "d_${groupid}; DROP" },
      { database: "corpus; DROP DATABASE corpus" },
    ];
    for (const [i, a] of attempts.entries()) {
      await helper.load([configNode, writeNode], flow({ ...a, id: "w" }), CREDS);
      const got: Msg[] = [];
      helper.getNode("caught").on("input", (m: Msg) => got.push(m));
      helper.getNode("w").receive({ topic: `config ${i}`, payload: MATES[0] });
      await waitFor(`config attempt ${i} refused`, () => got.length === 1);
      // Refused at configuration, or (a subtable template) every row refused for its invalid subtable name.
      assert.match(got[0].error?.message ?? "", /errors\.(config|rejected)/, JSON.stringify(a));
      await helper.unload();
    }
    const dbs = emu.sql("SHOW DATABASES").rows.map((r) => String(r[0]));
    assert.ok(dbs.includes(db), "the corpus database is still there");
  });
});
