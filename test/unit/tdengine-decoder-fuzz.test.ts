// Bounded fuzzing of the decoders: truncated and corrupted raw blocks and fetch replies must either decode or
// throw a TdengineError of kind "protocol" - never another exception, a hang or an unbounded allocation.
// Deterministic (seeded), so a failure reproduces.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TdengineError } from "../../lib/tdengine";
import { decodeRawBlock } from "../../lib/tdengine/raw-block-decoder";
import { parseFetchReply } from "../../lib/tdengine/fetch-reply";
import { BLOCK_DECIMAL_BLOB, BLOCK_SMALL_INTS, BLOCK_TEN_ROWS, BLOCK_TS_UNSIGNED, BLOCK_VAR, BLOCK_WIDE, hex } from "../support/tdengine-blocks";

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BLOCKS = { BLOCK_SMALL_INTS, BLOCK_WIDE, BLOCK_TS_UNSIGNED, BLOCK_VAR, BLOCK_DECIMAL_BLOB, BLOCK_TEN_ROWS };

/** Runs fn; returns "ok", or "protocol" for the expected error; anything else fails the test. */
function outcome(fn: () => unknown, what: string): "ok" | "protocol" {
  try {
    fn();
    return "ok";
  } catch (e) {
    assert.ok(e instanceof TdengineError && e.kind === "protocol", `${what}: unexpected ${String(e)}`);
    assert.match(e.message, /^protocol error: /);
    return "protocol";
  }
}

function fetchFrame(block: Uint8Array): Uint8Array {
  const len = hex(block.length.toString(16).padStart(8, "0").match(/../g)!.reverse().join(""));
  return new Uint8Array([
    ...hex("ffffffffffffffff 0700000000000000 0100 0000000000000000 0100000000000000 00000000 00000000 0100000000000000 00"),
    ...len,
    ...block,
  ]);
}

describe("decoder fuzz", () => {
  it("every truncation of every hand-written block is rejected as a protocol error", () => {
    for (const [name, block] of Object.entries(BLOCKS)) {
      for (let n = 0; n < block.length; n++) {
        assert.equal(outcome(() => decodeRawBlock(block.subarray(0, n)), `${name} cut at ${n}`), "protocol", `${name} cut at ${n}`);
      }
    }
  });

  it("random byte corruption decodes or fails cleanly", () => {
    const random = rng(20261127);
    let protocol = 0;
    for (const [name, block] of Object.entries(BLOCKS)) {
      for (let i = 0; i < 3000; i++) {
        const b = Uint8Array.from(block);
        const flips = 1 + Math.floor(random() * 4);
        for (let k = 0; k < flips; k++) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
        if (outcome(() => decodeRawBlock(b), `${name} #${i}`) === "protocol") protocol++;
      }
    }
    assert.ok(protocol > 0, "corruption was detected at least sometimes");
  });

  it("huge row/column counts and lengths in the header fail before allocating", () => {
    for (const block of Object.values(BLOCKS)) {
      for (const [offset, value] of [[8, 0x7fffffff], [12, 0x7fffffff], [8, 0xffffffff], [4, 0x7fffffff], [28 + 5 * 0 + 1, 0x7fffffff]] as const) {
        const b = Uint8Array.from(block);
        new DataView(b.buffer).setUint32(offset, value, true);
        outcome(() => decodeRawBlock(b), `offset ${offset}`);
      }
      // Column data lengths set to huge and negative values.
      const cols = new DataView(block.buffer, block.byteOffset).getInt32(12, true);
      for (let c = 0; c < cols; c++) {
        for (const v of [0x7fffffff, -1, -2]) {
          const b = Uint8Array.from(block);
          new DataView(b.buffer).setInt32(28 + 5 * cols + 4 * c, v, true);
          assert.equal(outcome(() => decodeRawBlock(b), `column ${c} length ${v}`), "protocol");
        }
      }
    }
  });

  it("fetch replies: truncations and corruption fail cleanly", () => {
    const random = rng(7);
    for (const block of Object.values(BLOCKS)) {
      const frame = fetchFrame(block);
      for (let n = 0; n < frame.length; n++) {
        outcome(() => {
          const r = parseFetchReply(frame.subarray(0, n));
          if (r.block) decodeRawBlock(r.block);
        }, `fetch reply cut at ${n}`);
      }
      for (let i = 0; i < 1000; i++) {
        const f = Uint8Array.from(frame);
        f[Math.floor(random() * f.length)] = Math.floor(random() * 256);
        outcome(() => {
          const r = parseFetchReply(f);
          if (r.block) decodeRawBlock(r.block);
        }, `fetch reply #${i}`);
      }
    }
  });
});
