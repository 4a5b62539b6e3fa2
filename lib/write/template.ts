// Subtable names from a template over tag (and row) values, e.g. "d_${groupid}" -> "d_3".
import { checkIdentifier } from "./identifiers";

export type TemplatePart = { text: string } | { field: string };

export function compileTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  const re = /\$\{([^}]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) parts.push({ text: template.slice(last, m.index) });
    parts.push({ field: checkIdentifier(m[1].trim(), "template field") });
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push({ text: template.slice(last) });
  if (parts.length === 0) throw new Error("the subtable name template is empty");
  for (const p of parts) {
    // Refused here, once, rather than row by row: the fixed text can only make every name invalid.
    if ("text" in p && !/^[A-Za-z0-9_]*$/.test(p.text)) {
      throw new Error(`invalid subtable name template ${JSON.stringify(template)}: only letters, digits, _ and \${field} placeholders are allowed`);
    }
  }
  return parts;
}

/** Fills the template; returns { problem } naming the field when a value is missing or not a string/number. */
export function fillTemplate(parts: TemplatePart[], lookup: (field: string) => unknown): { name: string } | { problem: string; field: string } {
  let name = "";
  for (const p of parts) {
    if ("text" in p) {
      name += p.text;
      continue;
    }
    const v = lookup(p.field);
    if (typeof v === "string" || (typeof v === "number" && Number.isFinite(v)) || typeof v === "bigint") name += String(v);
    else return { field: p.field, problem: `subtable name template needs ${p.field}, got ${v === undefined ? "nothing" : typeof v}` };
  }
  return { name };
}
