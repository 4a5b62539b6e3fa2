// String columns whose values repeat (a super table's tags and tbname in every row): the decoder hands out the
// string it decoded before for the same bytes. Every value must still be exactly its own bytes: values of equal
// length that land in the same cache slot, many distinct values (the cache gives up), long values, NULLs, and
// binary values (never shared: a Uint8Array is mutable). Blocks are laid out here from the layout table
// (protocol reference §2.6): header, column entries, column lengths, then per variable column R i32 offsets
// (-1 = NULL) and u16-prefixed values; nothing is produced by an encoder of the project.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeRawBlock } from "../../lib/tdengine/raw-block-decoder";
import { seeded } from "../support/fake-tdengine-client";

const VARCHAR = 8;
const VARBINARY = 16;
const NCHAR = 10;

type Value = string | Uint8Array | null;

/** One variable column's section: offsets then u16-prefixed payloads (NCHAR as UCS-4 LE). */
function section(type: number, values: Value[]): { offsets: Buffer; data: Buffer } {
  const offsets = Buffer.alloc(4 * values.length);
  const parts: Buffer[] = [];
  let at = 0;
  values.forEach((v, r) => {
    if (v === null) {
      offsets.writeInt32LE(-1, 4 * r);
      return;
    }
    let payload: Buffer;
    if (v instanceof Uint8Array) payload = Buffer.from(v);
    else if (type === NCHAR) {
      const points = [...v].map((ch) => ch.codePointAt(0)!);
      payload = Buffer.alloc(4 * points.length);
      points.forEach((p, i) => payload.writeUInt32LE(p, 4 * i));
    } else payload = Buffer.from(v, "utf8");
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(payload.length);
    offsets.writeInt32LE(at, 4 * r);
    parts.push(prefix, payload);
    at += 2 + payload.length;
  });
  return { offsets, data: Buffer.concat(parts) };
}

function block(columns: { type: number; values: Value[] }[]): Uint8Array {
  const rows = columns[0].values.length;
  const C = columns.length;
  const sections = columns.map((c) => section(c.type, c.values));
  const head = Buffer.alloc(28 + 9 * C);
  head.writeInt32LE(1, 0);
  head.writeInt32LE(rows, 8);
  head.writeInt32LE(C, 12);
  columns.forEach((c, i) => {
    head.writeInt8(c.type, 28 + 5 * i);
    head.writeInt32LE(c.type === NCHAR ? 4 * 64 + 2 : 64 + 2, 28 + 5 * i + 1);
    head.writeInt32LE(sections[i].data.length, 28 + 5 * C + 4 * i);
  });
  const out = Buffer.concat([head, ...sections.flatMap((s) => [s.offsets, s.data])]);
  out.writeInt32LE(out.length, 4);
  return new Uint8Array(out);
}

describe("raw block decoder: repeated strings", () => {
  it("decodes repeated tags, NULLs, empty and long values exactly, in VARCHAR and NCHAR", () => {
    const long = "a rather long value beyond the cached 32 bytes é";
    const tags: Value[] = ["loc_1", "loc_2", "loc_1", null, "", "loc_1", long, long, "", "loc_2", "héllo", "héllo"];
    const nchar: Value[] = tags.map((v) => (v === null ? null : `${v}😀`));
    const { rows } = decodeRawBlock(block([
      { type: VARCHAR, values: tags },
      { type: NCHAR, values: nchar },
    ]));
    assert.deepEqual(rows.map((r) => r[0]), tags);
    assert.deepEqual(rows.map((r) => r[1]), nchar);
  });

  it("values of the same length that share a cache slot stay apart; many distinct values are all exact", () => {
    const rnd = seeded(17);
    // 600 distinct 4-character values in a random repeating order: far more than the cache's slots, so
    // equal-length values collide in slots, and the cache gives up on the column part way.
    const distinct = Array.from({ length: 600 }, (_, i) => `v${i.toString(36).padStart(3, "0")}`);
    const values: Value[] = Array.from({ length: 4000 }, () => distinct[Math.floor(rnd() * (rnd() < 0.5 ? 8 : distinct.length))]);
    const { rows } = decodeRawBlock(block([{ type: VARCHAR, values }]));
    assert.deepEqual(rows.map((r) => r[0]), values);
  });

  it("a value that is the start of another cached value is not taken for it", () => {
    const rnd = seeded(23);
    // Prefixes of a few long strings, of every length: shorter values whose bytes start a longer one's.
    const bases = Array.from({ length: 12 }, (_, b) => `base${b}-abcdefghijklmnopqrstuvwxyz0123`);
    const values: Value[] = Array.from({ length: 4000 }, () => {
      const base = bases[Math.floor(rnd() * bases.length)];
      return base.slice(0, 1 + Math.floor(rnd() * 32));
    });
    const { rows } = decodeRawBlock(block([{ type: VARCHAR, values }]));
    assert.deepEqual(rows.map((r) => r[0]), values);
  });

  it("never shares binary values: equal bytes give separate Uint8Arrays", () => {
    const bytes = Uint8Array.from([1, 2, 3]);
    const { rows } = decodeRawBlock(block([{ type: VARBINARY, values: [bytes, bytes, bytes] }]));
    assert.deepEqual(rows.map((r) => r[0]), [bytes, bytes, bytes]);
    assert.notEqual(rows[0][0], rows[1][0]);
    (rows[0][0] as Uint8Array)[0] = 9;
    assert.deepEqual(rows[1][0], bytes, "changing one value changes no other");
  });
});
