// Minimal WKT -> WKB (little-endian) for GEOMETRY literals: POINT, LINESTRING, POLYGON.
import { TdError } from "../errors.js";

function bad(s: string): TdError {
  return new TdError(0x2600, `syntax error near "${s}" (invalid geometry data)`);
}

function coords(body: string, src: string): number[][] {
  return body.split(",").map((p) => {
    const xy = p.trim().split(/\s+/).map(Number);
    if (xy.length !== 2 || xy.some((n) => !Number.isFinite(n))) throw bad(src);
    return xy;
  });
}

export function wktToWkb(s: string): Uint8Array {
  const m = /^\s*(POINT|LINESTRING|POLYGON)\s*\((.*)\)\s*$/i.exec(s);
  if (!m) throw bad(s);
  const kind = m[1].toUpperCase();
  const parts: number[] = [];
  const header = (type: number): void => {
    parts.push(1, type & 0xff, 0, 0, 0);
  };
  const bytes: Buffer[] = [];
  const pushU32 = (n: number): void => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    bytes.push(b);
  };
  const pushPts = (pts: number[][]): void => {
    for (const [x, y] of pts) {
      const b = Buffer.alloc(16);
      b.writeDoubleLE(x, 0);
      b.writeDoubleLE(y, 8);
      bytes.push(b);
    }
  };
  if (kind === "POINT") {
    header(1);
    const pts = coords(m[2], s);
    if (pts.length !== 1) throw bad(s);
    pushPts(pts);
  } else if (kind === "LINESTRING") {
    header(2);
    const pts = coords(m[2], s);
    pushU32(pts.length);
    pushPts(pts);
  } else {
    header(3);
    const rings = m[2].match(/\(([^()]*)\)/g);
    if (!rings) throw bad(s);
    pushU32(rings.length);
    for (const r of rings) {
      const pts = coords(r.slice(1, -1), s);
      pushU32(pts.length);
      pushPts(pts);
    }
  }
  return Uint8Array.from(Buffer.concat([Buffer.from(parts), ...bytes]));
}
