// SQL identifiers (database, super table, column and tag names) are validated and backtick-quoted by the
// client's helpers before they are put into DDL or INSERT text; values never are (they are bound via stmt2).
import { qualifiedName, quoteIdentifier, validateIdentifier } from "../tdengine/identifiers";

/** Subtable names are bound as values (tbname placeholder) but still restricted to a safe, portable set. */
const TABLE = /^[A-Za-z0-9_]{1,192}$/;

export function checkIdentifier(name: unknown, what: string): string {
  return validateIdentifier(name, what);
}

export function quote(name: string): string {
  return quoteIdentifier(name);
}

export function qualified(db: string, table: string): string {
  return qualifiedName(db, table);
}

/** Why a subtable name is unusable, or undefined when it is fine. */
export function subtableNameProblem(name: string): string | undefined {
  if (!TABLE.test(name)) return `subtable name ${JSON.stringify(name)} must be 1-192 letters, digits or _`;
  return undefined;
}
