// Reading and writing user-named keys (column, tag and field names) on plain objects without Object.prototype
// getting in the way: a column may be called "constructor", "toString", "valueOf" or "__proto__". A plain
// `obj[name]` would read an inherited function for a missing value, and `obj.__proto__ = v` would set the
// object's prototype instead of a field.
const hasOwn = Object.prototype.hasOwnProperty;

/** True when reading `name` from a plain object that lacks it would find something inherited. */
export function isPrototypeName(name: string): boolean {
  return name in Object.prototype;
}

export function hasOwnKey(obj: object, key: string): boolean {
  return hasOwn.call(obj, key);
}

/** obj[key] if obj has it as its own property, else undefined. */
export function ownValue(obj: object, key: string): unknown {
  return hasOwn.call(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/** obj[key] = value, as an own enumerable property even for "__proto__". */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}
