// Client codec throughput without I/O: encoding stmt2 binds and decoding raw blocks for 1M rows of the demo's
// shape (ts TIMESTAMP, current FLOAT, voltage INT, phase FLOAT; tags groupid INT, location VARCHAR(16)).
// The raw blocks for the decode side come from a tiny builder local to this file (not lib/tdengine, not the
// emulator). Usage (after `npx tsc -p tsconfig.json`):
//   node dist/bench/client-codec.js [rows=1000000] [rowsPerBlock=4096] [subtablesPerBind=10] [rowsPerSubtable=1000]
import type { Stmt2Field, TableBind } from "../lib/tdengine/api";
import { decodeRawBlock } from "../lib/tdengine/raw-block-decoder";
import { encodeStmt2InsertBind } from "../lib/tdengine/stmt2-bind-encoder";
import { runMain } from "./support/procs";

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const PER_BLOCK = Number(process.argv[3] ?? 4096);
const TABLES_PER_BIND = Number(process.argv[4] ?? 10);
const ROWS_PER_TABLE = Number(process.argv[5] ?? 1000);
const T0 = 1_700_000_000_000;

const FIELDS: Stmt2Field[] = [
  { name: "tbname", type: 8, precision: "ms", scale: 0, bytes: 271, bindType: "tbname" },
  { name: "groupid", type: 4, precision: "ms", scale: 0, bytes: 4, bindType: "tag" },
  { name: "location", type: 8, precision: "ms", scale: 0, bytes: 18, bindType: "tag" },
  { name: "ts", type: 9, precision: "ms", scale: 0, bytes: 8, bindType: "column" },
  { name: "current", type: 6, precision: "ms", scale: 0, bytes: 4, bindType: "column" },
  { name: "voltage", type: 4, precision: "ms", scale: 0, bytes: 4, bindType: "column" },
  { name: "phase", type: 6, precision: "ms", scale: 0, bytes: 4, bindType: "column" },
];

function batch(first: number): TableBind[] {
  return Array.from({ length: TABLES_PER_BIND }, (_, t) => {
    const ts: number[] = [];
    const current: number[] = [];
    const voltage: number[] = [];
    const phase: number[] = [];
    for (let r = 0; r < ROWS_PER_TABLE; r++) {
      ts.push(T0 + first + r);
      current.push(10 + ((r * 7) % 100) / 10);
      voltage.push(200 + (r % 40));
      phase.push(((r * 13) % 100) / 100);
    }
    return { table: `d${t}`, tags: [t, `California.${t}`.slice(0, 16)], columns: [ts, current, voltage, phase] };
  });
}

/** Minimal raw-block builder: 6 columns (ts, current, voltage, phase, groupid, location), no NULLs. */
function buildBlock(rows: number, first: number): Uint8Array {
  const types: Array<[number, number]> = [[9, 8], [6, 4], [4, 4], [6, 4], [4, 4], [8, 16]];
  const loc = Buffer.from("California.SF", "utf8");
  const bitmap = Math.ceil(rows / 8);
  const fixedLens = [8, 4, 4, 4, 4].map((s) => rows * s);
  const varLen = rows * (2 + loc.length);
  const total = 28 + 9 * 6 + fixedLens.reduce((a, b) => a + bitmap + b, 0) + 4 * rows + varLen;
  const b = Buffer.alloc(total);
  b.writeInt32LE(1, 0);
  b.writeInt32LE(total, 4);
  b.writeInt32LE(rows, 8);
  b.writeInt32LE(6, 12);
  types.forEach(([t, s], i) => {
    b.writeInt8(t, 28 + 5 * i);
    b.writeInt32LE(s, 29 + 5 * i);
  });
  [...fixedLens, varLen].forEach((l, i) => b.writeInt32LE(l, 58 + 4 * i));
  let p = 82;
  const col = (size: number, write: (at: number, r: number) => void): void => {
    p += bitmap;
    for (let r = 0; r < rows; r++) write(p + r * size, r);
    p += rows * size;
  };
  col(8, (at, r) => b.writeBigInt64LE(BigInt(T0 + first + r), at));
  col(4, (at, r) => b.writeFloatLE(10 + (r % 100) / 10, at));
  col(4, (at, r) => b.writeInt32LE(200 + (r % 40), at));
  col(4, (at, r) => b.writeFloatLE((r % 100) / 100, at));
  col(4, (at, r) => b.writeInt32LE(r % 10, at));
  for (let r = 0; r < rows; r++) b.writeInt32LE(r * (2 + loc.length), p + 4 * r);
  p += 4 * rows;
  for (let r = 0; r < rows; r++) {
    b.writeUInt16LE(loc.length, p);
    loc.copy(b, p + 2);
    p += 2 + loc.length;
  }
  return b;
}

function rate(rows: number, ms: number): string {
  return `${Math.round(rows / (ms / 1000)).toLocaleString("en-US")} rows/s (${rows.toLocaleString("en-US")} rows in ${ms.toFixed(0)} ms)`;
}

function main(): void {
  // Encode: inputs are built first (not timed), then encoded.
  const rowsPerBind = TABLES_PER_BIND * ROWS_PER_TABLE;
  const binds = Math.ceil(TOTAL / rowsPerBind);
  const inputs = Array.from({ length: binds }, (_, i) => batch(i * ROWS_PER_TABLE));
  encodeStmt2InsertBind(FIELDS, inputs[0]); // warm-up
  let bytes = 0;
  let t = performance.now();
  for (const tables of inputs) bytes += encodeStmt2InsertBind(FIELDS, tables).byteLength;
  const encMs = performance.now() - t;
  console.log(`stmt2 bind encode: ${rate(binds * rowsPerBind, encMs)}, ${binds} binds of ${TABLES_PER_BIND} x ${ROWS_PER_TABLE}, ${(bytes / 1e6).toFixed(1)} MB`);

  // Decode: blocks of PER_BLOCK rows (a typical server block size), then one block holding everything.
  const blocks: Uint8Array[] = [];
  for (let done = 0; done < TOTAL; done += PER_BLOCK) blocks.push(buildBlock(Math.min(PER_BLOCK, TOTAL - done), done));
  decodeRawBlock(blocks[0]); // warm-up
  let rows = 0;
  t = performance.now();
  for (const b of blocks) rows += decodeRawBlock(b).rows.length;
  console.log(`raw block decode (${PER_BLOCK}-row blocks): ${rate(rows, performance.now() - t)}`);
  const big = buildBlock(TOTAL, 0);
  t = performance.now();
  rows = decodeRawBlock(big).rows.length;
  console.log(`raw block decode (one ${TOTAL}-row block, ${(big.byteLength / 1e6).toFixed(1)} MB): ${rate(rows, performance.now() - t)}`);
}

runMain(main);
