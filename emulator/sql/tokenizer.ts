// SQL tokenizer for the emulator's TDengine subset.
import { syntaxError } from "../errors.js";

export type TokKind = "ident" | "qident" | "number" | "string" | "duration" | "op" | "param" | "eof";

export interface Token {
  kind: TokKind;
  /** Identifier (as written), number text, unescaped string, operator, or duration text. */
  text: string;
  /** Offset in the SQL text, for error messages ("syntax error near ..."). */
  pos: number;
}

const DURATION_UNITS = "buasmhdwny";

function isIdentStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" || c > "\x7f";
}
function isIdentChar(c: string): boolean {
  return isIdentStart(c) || (c >= "0" && c <= "9");
}
function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (c === "-" && sql[i + 1] === "-") {
      while (i < n && sql[i] !== "\n") i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < n && isIdentChar(sql[i])) i++;
      out.push({ kind: "ident", text: sql.slice(start, i), pos: start });
      continue;
    }
    if (c === "`") {
      const end = sql.indexOf("`", i + 1);
      if (end < 0) throw syntaxError(sql.slice(start));
      out.push({ kind: "qident", text: sql.slice(i + 1, end), pos: start });
      i = end + 1;
      continue;
    }
    if (isDigit(c) || (c === "." && isDigit(sql[i + 1] ?? ""))) {
      if (c === "0" && (sql[i + 1] === "x" || sql[i + 1] === "X")) {
        i += 2;
        while (i < n && /[0-9a-fA-F]/.test(sql[i])) i++;
        out.push({ kind: "number", text: sql.slice(start, i), pos: start });
        continue;
      }
      while (i < n && isDigit(sql[i])) i++;
      let isInt = true;
      if (sql[i] === "." && !isIdentStart(sql[i + 1] ?? "")) {
        isInt = false;
        i++;
        while (i < n && isDigit(sql[i])) i++;
      }
      if ((sql[i] === "e" || sql[i] === "E") && (isDigit(sql[i + 1] ?? "") || ((sql[i + 1] === "-" || sql[i + 1] === "+") && isDigit(sql[i + 2] ?? "")))) {
        isInt = false;
        i += 2;
        while (i < n && isDigit(sql[i])) i++;
      }
      if (isInt && i < n && DURATION_UNITS.includes(sql[i].toLowerCase()) && !isIdentChar(sql[i + 1] ?? "")) {
        i++;
        out.push({ kind: "duration", text: sql.slice(start, i).toLowerCase(), pos: start });
        continue;
      }
      if (i < n && isIdentStart(sql[i])) throw syntaxError(sql.slice(start));
      out.push({ kind: "number", text: sql.slice(start, i), pos: start });
      continue;
    }
    if (c === "'" || c === '"') {
      let s = "";
      i++;
      for (;;) {
        if (i >= n) throw syntaxError(sql.slice(start), "unterminated string");
        const ch = sql[i];
        if (ch === "\\" && i + 1 < n) {
          const e = sql[i + 1];
          // Known escapes are translated; others (e.g. the \x of a VARBINARY hex literal) are kept verbatim.
          s += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e === "0" ? "\0" : e === "\\" || e === "'" || e === '"' ? e : "\\" + e;
          i += 2;
          continue;
        }
        if (ch === c) {
          if (sql[i + 1] === c) {
            s += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += ch;
        i++;
      }
      out.push({ kind: "string", text: s, pos: start });
      continue;
    }
    if (c === "?") {
      out.push({ kind: "param", text: "?", pos: start });
      i++;
      continue;
    }
    const two = sql.slice(i, i + 2);
    if (two === "<=" || two === ">=" || two === "!=" || two === "<>" || two === "==") {
      out.push({ kind: "op", text: two === "<>" ? "!=" : two === "==" ? "=" : two, pos: start });
      i += 2;
      continue;
    }
    if ("(),.;*+-/%=<>".includes(c)) {
      out.push({ kind: "op", text: c, pos: start });
      i++;
      continue;
    }
    throw syntaxError(sql.slice(start));
  }
  out.push({ kind: "eof", text: "", pos: n });
  return out;
}
