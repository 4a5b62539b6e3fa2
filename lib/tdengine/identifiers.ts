// SQL identifier validation and quoting: only names TDengine would accept unquoted, so nothing can inject SQL.
import { MAX_IDENTIFIER_LENGTH } from "./constants";
import { TdengineError } from "./errors";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws a TdengineError of kind "invalid" unless `name` is letters, digits and underscores, not starting with a digit. */
export function validateIdentifier(name: unknown, what = "identifier"): string {
  if (typeof name !== "string" || name.length === 0) {
    throw TdengineError.invalid(`${what} name is missing`);
  }
  if (name.length > MAX_IDENTIFIER_LENGTH) {
    throw TdengineError.invalid(`${what} name is longer than ${MAX_IDENTIFIER_LENGTH} characters`);
  }
  if (!IDENTIFIER.test(name)) {
    throw TdengineError.invalid(
      `invalid ${what} name ${JSON.stringify(name)}: use letters, digits and underscores, not starting with a digit`,
    );
  }
  return name;
}

/** Validates and wraps in backticks: `name`. */
export function quoteIdentifier(name: string, what = "identifier"): string {
  return "`" + validateIdentifier(name, what) + "`";
}

/** `db`.`table`, both validated. */
export function qualifiedName(database: string, table: string): string {
  return `${quoteIdentifier(database, "database")}.${quoteIdentifier(table, "table")}`;
}
