import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { qualifiedName, quoteIdentifier, TdengineError, typeCodeFromName, TYPE, validateIdentifier } from "../../lib/tdengine";

const invalid = (e: unknown): boolean => e instanceof TdengineError && e.kind === "invalid" && e.retryable === false;

describe("identifier helpers", () => {
  it("accepts letters, digits and underscores not starting with a digit, up to 192 characters", () => {
    for (const ok of ["meters", "_x", "d1001", "Power_2", "a".repeat(192)]) assert.equal(validateIdentifier(ok, "table"), ok);
  });

  it("rejects anything that could inject SQL or is not a plain name", () => {
    const bad = ["", "1abc", "a b", "a-b", "a.b", "a`b", "a;drop table x", "`x`", "tab\u00e9", "a\n", "a".repeat(193), "名字"];
    for (const name of bad) assert.throws(() => validateIdentifier(name, "column"), invalid, JSON.stringify(name));
    assert.throws(() => validateIdentifier(undefined, "database"), invalid);
    assert.throws(() => validateIdentifier(42, "database"), invalid);
  });

  it("names what was invalid in the message", () => {
    assert.throws(() => validateIdentifier("x-y", "tag"), /invalid tag name "x-y"/);
  });

  it("quotes with backticks and qualifies db.table", () => {
    assert.equal(quoteIdentifier("meters"), "`meters`");
    assert.equal(qualifiedName("power", "meters"), "`power`.`meters`");
    assert.throws(() => qualifiedName("power", "m`; drop database power; --"), invalid);
    assert.throws(() => quoteIdentifier("a`b"), invalid);
  });
});

describe("type names", () => {
  it("maps taosAdapter's type names to codes", () => {
    assert.equal(typeCodeFromName("INT"), TYPE.INT);
    assert.equal(typeCodeFromName("varchar(16)"), TYPE.VARCHAR);
    assert.equal(typeCodeFromName("BINARY"), 8);
    assert.equal(typeCodeFromName("BIGINT  UNSIGNED"), 14);
    assert.equal(typeCodeFromName("NCHAR(10)"), 10);
    assert.equal(typeCodeFromName("DECIMAL(10,4)"), TYPE.DECIMAL64);
    assert.equal(typeCodeFromName("DECIMAL(38,2)"), TYPE.DECIMAL);
    assert.equal(typeCodeFromName("GEOMETRY(100)"), 20);
    assert.equal(typeCodeFromName("TIMESTAMP"), 9);
    assert.equal(typeCodeFromName("STRING"), undefined);
  });
});
