// Running SQL straight on the emulator's engine in unit tests: results as rows, column names and types, errors
// as their TDengine codes. `current` gives the engine and session of the running test.
import assert from "node:assert/strict";
import { TdError } from "../../emulator/errors";
import type { ExecResult } from "../../emulator/result";
import type { Session } from "../../emulator/sql/context";
import type { Engine } from "../../emulator/sql/engine";

export function sqlHelpers(current: () => { engine: Engine; session: Session }) {
  const run = (sql: string): ExecResult => current().engine.execute(sql, current().session);
  const rowsOf = (sql: string): ExecResult & { kind: "rows" } => {
    const r = run(sql);
    assert.equal(r.kind, "rows", `expected rows from ${sql}`);
    return r as ExecResult & { kind: "rows" };
  };
  return {
    run,
    rows(sql: string): unknown[][] {
      const rs = rowsOf(sql).result;
      const out: unknown[][] = [];
      for (let i = 0; i < rs.rowCount; i++) out.push(rs.columns.map((_, c) => rs.value(c, i)));
      return out;
    },
    names: (sql: string): string[] => rowsOf(sql).result.columns.map((c) => c.name),
    types: (sql: string): number[] => rowsOf(sql).result.columns.map((c) => c.type),
    affected(sql: string): number {
      const r = run(sql);
      assert.equal(r.kind, "update");
      return r.kind === "update" ? r.affectedRows : -1;
    },
    code(sql: string): number {
      try {
        run(sql);
      } catch (e) {
        assert.ok(e instanceof TdError, `not a TdError: ${String(e)}`);
        return e.code;
      }
      assert.fail(`expected an error from ${sql}`);
    },
  };
}
