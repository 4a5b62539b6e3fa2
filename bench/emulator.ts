// Benchmark of the emulator itself: stmt2 ingest rows/s and scan rows/s over raw WebSocket frames, built by
// hand here (not with lib/tdengine) so the emulator is measured on its own.
// Run: npx tsc -p tsconfig.json && node dist/bench/emulator.js [rowsPerBind] [binds] [subtables]
import os from "node:os";
import WebSocket from "ws";
import { startEmulator } from "../emulator/index.js";
import { runMain } from "./support/procs";

const ROWS_PER_BIND = Number(process.argv[2] ?? 10000);
const BINDS = Number(process.argv[3] ?? 100);
const TABLES = Number(process.argv[4] ?? 10);

class Client {
  private waiters = new Map<string, (v: unknown) => void>();
  private binWaiters = new Map<bigint, (b: Buffer) => void>();
  private seq = 1n;
  constructor(private ws: WebSocket) {
    ws.on("message", (d: Buffer, bin: boolean) => {
      if (bin) {
        const id = d.readBigUInt64LE(26);
        this.binWaiters.get(id)?.(d);
        this.binWaiters.delete(id);
        return;
      }
      const m = JSON.parse(d.toString());
      const key = String(m.req_id);
      this.waiters.get(key)?.(m);
      this.waiters.delete(key);
    });
  }
  id(): bigint {
    return this.seq++;
  }
  json(action: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.id();
    return new Promise((res, rej) => {
      this.waiters.set(String(id), (m) => {
        const r = m as Record<string, unknown>;
        if (r.code !== 0) rej(new Error(String(r.message)));
        else res(r);
      });
      this.ws.send(JSON.stringify({ action, args: { ...args, req_id: Number(id) } }));
    });
  }
  binaryJson(frame: Buffer): Promise<Record<string, unknown>> {
    const id = frame.readBigUInt64LE(0);
    return new Promise((res, rej) => {
      this.waiters.set(String(id), (m) => {
        const r = m as Record<string, unknown>;
        if (r.code !== 0) rej(new Error(String(r.message)));
        else res(r);
      });
      this.ws.send(frame);
    });
  }
  fetch(resultId: bigint): Promise<Buffer> {
    const id = this.id();
    const f = Buffer.alloc(26);
    f.writeBigUInt64LE(id, 0);
    f.writeBigUInt64LE(resultId, 8);
    f.writeBigUInt64LE(7n, 16);
    f.writeUInt16LE(1, 24);
    return new Promise((res) => {
      this.binWaiters.set(id, res);
      this.ws.send(f);
    });
  }
}

function colBlock(type: number, n: number, data: Buffer): Buffer {
  const size = 17 + n + data.length;
  const b = Buffer.alloc(size);
  b.writeUInt32LE(size, 0);
  b.writeUInt32LE(type, 4);
  b.writeUInt32LE(n, 8);
  // is-null flags all 0, has-lengths 0
  b.writeUInt32LE(data.length, 13 + n);
  data.copy(b, 17 + n);
  return b;
}

/** One bind covering `tables` subtables (names + 1 int tag) with n rows each of (ts, double, int). */
function bindPayload(stmtId: bigint, reqId: bigint, tables: number, n: number, t0: bigint): Buffer {
  const names = Array.from({ length: tables }, (_, i) => Buffer.from(`d${i}\0`));
  const nameSec = Buffer.concat([Buffer.concat(names.map((nm) => Buffer.from(Uint16Array.of(nm.length).buffer))), ...names]);
  const tagBlocks = names.map((_, i) => colBlock(4, 1, Buffer.from(Int32Array.of(i).buffer)));
  const colBlocks = names.map(() => {
    const ts = new BigInt64Array(n);
    const dv = new Float64Array(n);
    const iv = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      ts[r] = t0 + BigInt(r);
      dv[r] = r * 0.5;
      iv[r] = r;
    }
    return Buffer.concat([colBlock(9, n, Buffer.from(ts.buffer)), colBlock(7, n, Buffer.from(dv.buffer)), colBlock(4, n, Buffer.from(iv.buffer))]);
  });
  const sec = (blocks: Buffer[]): Buffer => Buffer.concat([Buffer.concat(blocks.map((b) => Buffer.from(Uint32Array.of(b.length).buffer))), ...blocks]);
  const tagSec = sec(tagBlocks);
  const colSec = sec(colBlocks);
  const h = Buffer.alloc(28);
  const total = 28 + nameSec.length + tagSec.length + colSec.length;
  h.writeUInt32LE(total, 0);
  h.writeUInt32LE(tables, 4);
  h.writeUInt32LE(1, 8);
  h.writeUInt32LE(3, 12);
  h.writeUInt32LE(28, 16);
  h.writeUInt32LE(28 + nameSec.length, 20);
  h.writeUInt32LE(28 + nameSec.length + tagSec.length, 24);
  const f = Buffer.alloc(30);
  f.writeBigUInt64LE(reqId, 0);
  f.writeBigUInt64LE(stmtId, 8);
  f.writeBigUInt64LE(9n, 16);
  f.writeUInt16LE(1, 24);
  f.writeInt32LE(-1, 26);
  return Buffer.concat([f, h, nameSec, tagSec, colSec]);
}

async function main(): Promise<void> {
  const emu = await startEmulator();
  emu.sql("create database bench");
  emu.sql("create stable bench.st (ts timestamp, v double, i int) tags (g int)");
  const ws = new WebSocket(`${emu.wsUrl}/ws`, { perMessageDeflate: false, maxPayload: 0x60000000 });
  await new Promise((r) => ws.once("open", r));
  const c = new Client(ws);
  await c.json("conn", { user: "root", password: "taosdata", db: "bench" });
  const init = await c.json("stmt2_init", { single_stb_insert: true, single_table_bind_once: true });
  const stmtId = BigInt(init.stmt_id as number);
  await c.json("stmt2_prepare", { stmt_id: Number(stmtId), sql: "insert into ? using st tags(?) values(?,?,?)", get_fields: true });
  const perTable = Math.floor(ROWS_PER_BIND / TABLES);
  let t0 = BigInt(Date.now() - 86400000);
  // prebuild frames so the client side costs little
  const frames: Buffer[] = [];
  for (let b = 0; b < BINDS; b++) {
    frames.push(bindPayload(stmtId, 0n, TABLES, perTable, t0));
    t0 += BigInt(perTable);
  }
  const start = process.hrtime.bigint();
  for (const f of frames) {
    const id = c.id();
    f.writeBigUInt64LE(id, 0);
    await c.binaryJson(f);
    await c.json("stmt2_exec", { stmt_id: Number(stmtId) });
  }
  const ingestNs = Number(process.hrtime.bigint() - start);
  const totalRows = BINDS * perTable * TABLES;
  const ingestRate = totalRows / (ingestNs / 1e9);

  // scans: every block of a SELECT over the super table is fetched
  const scans: string[] = [];
  for (const sql of ["select * from st", "select * from st order by ts desc", "select ts, v from st where i >= 500"]) {
    const scanStart = process.hrtime.bigint();
    const q = await c.json("query", { sql });
    let rows = 0;
    for (;;) {
      const rep = await c.fetch(BigInt(q.id as number));
      if (rep[50] === 1) break;
      rows += rep.readInt32LE(55 + 8);
    }
    const scanNs = Number(process.hrtime.bigint() - scanStart);
    scans.push(`scan "${sql}": ${rows} rows in ${(scanNs / 1e6).toFixed(0)} ms = ${Math.round(rows / (scanNs / 1e9))} rows/s`);
  }
  const cpu = os.cpus()[0]?.model ?? "unknown";
  console.log(`machine: ${os.cpus().length} x ${cpu}, node ${process.version}`);
  console.log(`stmt2 ingest: ${totalRows} rows (${BINDS} binds x ${TABLES} subtables x ${perTable} rows) in ${(ingestNs / 1e6).toFixed(0)} ms = ${Math.round(ingestRate)} rows/s`);
  for (const line of scans) console.log(line);
  ws.close();
  await emu.stop();
}

runMain(main);
