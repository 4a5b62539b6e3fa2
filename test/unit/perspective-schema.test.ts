// TDengine column metadata -> Perspective schema, and declared schemas.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { plansFromColumns, plansFromSchema, schemaOf } from "../../lib/perspective/schema";

describe("Perspective schema from msg.columns", () => {
  it("maps every TDengine type code as documented", () => {
    const codes: [number, string, string, string][] = [
      [1, "BOOL", "boolean", "boolean"],
      [2, "TINYINT", "integer", "integer"],
      [3, "SMALLINT", "integer", "integer"],
      [4, "INT", "integer", "integer"],
      [5, "BIGINT", "float", "float"],
      [6, "FLOAT", "float", "float"],
      [7, "DOUBLE", "float", "float"],
      [8, "VARCHAR", "string", "string"],
      [9, "TIMESTAMP", "datetime", "datetime"],
      [10, "NCHAR", "string", "string"],
      [11, "TINYINT UNSIGNED", "integer", "integer"],
      [12, "SMALLINT UNSIGNED", "integer", "integer"],
      [13, "INT UNSIGNED", "float", "float"],
      [14, "BIGINT UNSIGNED", "float", "float"],
      [15, "JSON", "string", "string"],
      [16, "VARBINARY", "string", "hex"],
      [17, "DECIMAL(10,4)", "float", "float"],
      [18, "BLOB", "string", "hex"],
      [20, "GEOMETRY", "string", "hex"],
      [21, "DECIMAL(18,2)", "float", "float"],
    ];
    for (const [type, typeName, pspType, kind] of codes) {
      assert.deepEqual(plansFromColumns([{ name: "c", type, typeName, length: 8 }]), [{ name: "c", type: pspType, kind }], typeName);
      // The name alone is enough when the code is missing.
      assert.deepEqual(plansFromColumns([{ name: "c", typeName }]), [{ name: "c", type: pspType, kind }], `${typeName} by name`);
    }
  });

  it("keeps the column order and gives the schema object", () => {
    const plans = plansFromColumns([
      { name: "ts", type: 9 },
      { name: "current", type: 6 },
      { name: "location", type: 8 },
    ]);
    assert.deepEqual(Object.entries(schemaOf(plans)), [["ts", "datetime"], ["current", "float"], ["location", "string"]]);
  });

  it("rejects what it cannot map, with the column named", () => {
    assert.throws(() => plansFromColumns([]), /non-empty array/);
    assert.throws(() => plansFromColumns("ts"), /non-empty array/);
    assert.throws(() => plansFromColumns([{ type: 4 }]), /msg\.columns\[0\] has no name/);
    assert.throws(() => plansFromColumns([{ name: "x", type: 99 }]), /"x"\): unknown TDengine type 99/);
    assert.throws(() => plansFromColumns([{ name: "x", type: 4 }, { name: "x", type: 5 }]), /"x" twice/);
  });
});

describe("declared Perspective schema", () => {
  it("accepts Perspective's types and refuses others", () => {
    assert.deepEqual(plansFromSchema({ a: "integer", b: "datetime" }), [
      { name: "a", type: "integer", kind: "integer" },
      { name: "b", type: "datetime", kind: "datetime" },
    ]);
    assert.throws(() => plansFromSchema({ a: "int" }), /column "a": type must be one of boolean, integer, float, string, date, datetime/);
    assert.throws(() => plansFromSchema({}), /no columns/);
    assert.throws(() => plansFromSchema([["a", "integer"]]), /must be an object/);
  });
});
