// Query results handed from the SQL engine to the REST formatter and the raw-block encoder.
import type { ColumnStore } from "./store/column.js";
import type { Precision, Value } from "./types.js";

export interface ResultColumn {
  name: string;
  type: number;
  /** Declared width as reported in fields_lengths / column_meta. */
  length: number;
  decPrecision?: number;
  decScale?: number;
}

/** Where a fixed-width output column's bytes live, so the encoder can copy them without boxing values. */
export interface FixedSource {
  stores: ColumnStore[];
  /** Per output row: index into stores (null = always 0). */
  src: Uint32Array | null;
  /** Per output row: physical row within the store. */
  row: Uint32Array;
}

export interface ResultSet {
  columns: ResultColumn[];
  precision: Precision;
  rowCount: number;
  value(col: number, row: number): Value;
  fixed(col: number): FixedSource | null;
}

export type ExecResult = { kind: "update"; affectedRows: number } | { kind: "rows"; result: ResultSet };

/** A small result given as row-major values (SHOW, DESCRIBE, aggregates, constants). */
export class ValuesResult implements ResultSet {
  constructor(
    readonly columns: ResultColumn[],
    readonly rows: Value[][],
    readonly precision: Precision = "ms",
  ) {}
  get rowCount(): number {
    return this.rows.length;
  }
  value(col: number, row: number): Value {
    return this.rows[row][col];
  }
  fixed(): FixedSource | null {
    return null;
  }
}
