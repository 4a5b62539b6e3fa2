// Recursive-descent parser: SQL text -> AST. Anything outside the subset is a syntax error (0x2600) or a
// "not supported" error, never a silently different statement.
import { CODE, notSupported, syntaxError, TdError } from "../errors.js";
import { T, type ColumnDef } from "../types.js";
import type { AlterAction, Expr, FillMode, InsertItem, Name, SelectItem, SelectStmt, Stmt } from "./ast.js";
import { tokenize, type Token } from "./tokenizer.js";
import { TTL_MAX } from "../store/ttl.js";

const RESERVED = new Set([
  "select", "from", "where", "order", "by", "limit", "offset", "and", "or", "not", "between", "in", "is", "null",
  "as", "asc", "desc", "values", "using", "tags", "into", "insert", "create", "drop", "group", "partition",
  "interval", "having", "union", "slimit", "soffset", "fill", "like", "match", "nmatch", "join", "on", "state_window",
  "session", "event_window", "count_window", "window",
]);

export class Parser {
  private toks: Token[];
  private i = 0;
  /** Number of `?` placeholders met so far. */
  params = 0;

  constructor(private readonly sql: string) {
    this.toks = tokenize(sql);
  }

  private peek(o = 0): Token {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)];
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.i++;
    return t;
  }
  private fail(t: Token = this.peek()): TdError {
    if (t.kind === "eof") return new TdError(CODE.INCOMPLETE, "Incomplete SQL statement");
    return syntaxError(this.sql.slice(t.pos));
  }
  isKw(kw: string, o = 0): boolean {
    const t = this.peek(o);
    return t.kind === "ident" && t.text.toLowerCase() === kw;
  }
  private acceptKw(kw: string): boolean {
    if (this.isKw(kw)) {
      this.i++;
      return true;
    }
    return false;
  }
  private expectKw(kw: string): void {
    if (!this.acceptKw(kw)) throw this.fail();
  }
  private isOp(op: string, o = 0): boolean {
    const t = this.peek(o);
    return t.kind === "op" && t.text === op;
  }
  private acceptOp(op: string): boolean {
    if (this.isOp(op)) {
      this.i++;
      return true;
    }
    return false;
  }
  private expectOp(op: string): void {
    if (!this.acceptOp(op)) throw this.fail();
  }

  /** Identifier: unquoted ones are case-insensitive (lowercased), back-quoted ones keep their case. */
  private ident(): string {
    const t = this.peek();
    if (t.kind === "ident" && !RESERVED.has(t.text.toLowerCase())) {
      this.i++;
      return t.text.toLowerCase();
    }
    if (t.kind === "qident") {
      this.i++;
      return t.text;
    }
    throw this.fail();
  }

  private name(): Name {
    const first = this.ident();
    if (this.acceptOp(".")) return { db: first, name: this.ident() };
    return { name: first };
  }

  private end(): void {
    this.acceptOp(";");
    if (this.peek().kind !== "eof") throw this.fail();
  }

  parse(): Stmt {
    const t = this.peek();
    if (t.kind === "eof") throw new TdError(CODE.NO_SQL & 0xffff, "no sql input");
    let s: Stmt;
    if (this.acceptKw("create")) s = this.create();
    else if (this.acceptKw("drop")) s = this.drop();
    else if (this.acceptKw("use")) s = { t: "use", name: this.ident() };
    else if (this.acceptKw("show")) s = this.show();
    else if (this.acceptKw("describe") || this.acceptKw("desc")) s = { t: "describe", name: this.name() };
    else if (this.acceptKw("insert")) s = this.insert();
    else if (this.acceptKw("select")) s = this.select();
    else if (this.acceptKw("alter")) s = this.alter();
    else if (t.kind === "ident" && ["delete", "explain", "grant", "revoke", "flush", "compact", "kill", "trim", "balance", "redistribute", "split", "merge", "reset", "pause", "resume"].includes(t.text.toLowerCase()))
      throw notSupported(t.text.toLowerCase());
    else throw this.fail();
    this.end();
    return s;
  }

  private ifNotExists(): boolean {
    if (this.isKw("if")) {
      this.next();
      this.expectKw("not");
      this.expectKw("exists");
      return true;
    }
    return false;
  }
  private ifExists(): boolean {
    if (this.acceptKw("if")) {
      this.expectKw("exists");
      return true;
    }
    return false;
  }

  private create(): Stmt {
    if (this.acceptKw("database")) {
      const ifNotExists = this.ifNotExists();
      const name = this.ident();
      let precision: string | undefined;
      let vgroups: number | undefined;
      // Options: accepted and ignored, except PRECISION and VGROUPS.
      while (this.peek().kind !== "eof" && !this.isOp(";")) {
        if (this.acceptKw("vgroups")) {
          const v = this.next();
          if (v.kind !== "number" || !/^\d+$/.test(v.text) || Number(v.text) < 1 || Number(v.text) > 1024)
            throw new TdError(0x2619, `Invalid database option: vgroups ${v.text}`);
          vgroups = Number(v.text);
          continue;
        }
        if (this.acceptKw("precision")) {
          const v = this.next();
          if (v.kind !== "string") throw this.fail(v);
          precision = v.text.toLowerCase();
          if (precision !== "ms" && precision !== "us" && precision !== "ns")
            throw new TdError(0x2619, `Invalid database option: precision ${v.text}`);
          continue;
        }
        const tk = this.next();
        if (tk.kind === "param") throw this.fail(tk);
      }
      return { t: "createDb", ifNotExists, name, precision, vgroups };
    }
    if (this.acceptKw("topic")) return this.createTopic();
    if (this.acceptKw("user")) {
      const ifNotExists = this.ifNotExists();
      const name = this.ident();
      this.expectKw("pass");
      const pass = this.userPass();
      this.skipUserOptions();
      return { t: "createUser", ifNotExists, name, pass };
    }
    if (this.acceptKw("stable")) {
      const ifNotExists = this.ifNotExists();
      const name = this.name();
      const columns = this.columnDefs(false);
      if (!this.acceptKw("tags")) throw this.fail();
      const tags = this.columnDefs(true);
      this.tableOptions(); // a super table's TTL has no effect in TDengine (its children have their own)
      return { t: "createStable", ifNotExists, name, columns, tags };
    }
    if (this.acceptKw("table")) {
      const ifNotExists = this.ifNotExists();
      const name = this.name();
      if (this.isOp("(")) {
        const columns = this.columnDefs(false);
        if (this.acceptKw("tags")) {
          const tags = this.columnDefs(true);
          this.tableOptions();
          return { t: "createStable", ifNotExists, name, columns, tags };
        }
        return { t: "createTable", ifNotExists, name, columns, ttl: this.tableOptions().ttl };
      }
      const items: Extract<Stmt, { t: "createChild" }>["items"] = [];
      items.push(this.childClause(ifNotExists, name));
      while (this.peek().kind !== "eof" && !this.isOp(";")) {
        const ine = this.ifNotExists();
        items.push(this.childClause(ine, this.name()));
      }
      return { t: "createChild", items };
    }
    if (this.peek().kind === "ident") throw notSupported(`CREATE ${this.peek().text.toUpperCase()}`);
    throw this.fail();
  }

  /** CREATE TOPIC [IF NOT EXISTS] t [WITH META | ONLY META] AS {SELECT … | STABLE st [WHERE …] | DATABASE db} */
  private createTopic(): Stmt {
    const ifNotExists = this.ifNotExists();
    const name = this.ident();
    let withMeta = false;
    if (this.acceptKw("with") || this.acceptKw("only")) {
      this.expectKw("meta");
      withMeta = true;
    }
    this.expectKw("as");
    if (this.acceptKw("select")) {
      if (withMeta) throw this.fail();
      return { t: "createTopic", ifNotExists, name, withMeta, source: { kind: "select", select: this.select() } };
    }
    if (this.acceptKw("stable")) {
      const st = this.name();
      const where = this.acceptKw("where") ? this.expr() : undefined;
      return { t: "createTopic", ifNotExists, name, withMeta, source: { kind: "stable", name: st, where } };
    }
    this.expectKw("database");
    return { t: "createTopic", ifNotExists, name, withMeta, source: { kind: "database", name: this.ident() } };
  }

  private childClause(ifNotExists: boolean, name: Name): { ifNotExists: boolean; name: Name; stable: Name; tagNames?: string[]; tags: Expr[]; ttl?: number } {
    this.expectKw("using");
    const stable = this.name();
    let tagNames: string[] | undefined;
    if (this.isOp("(")) tagNames = this.identList();
    this.expectKw("tags");
    const tags = this.exprList();
    return { ifNotExists, name, stable, tagNames, tags, ttl: this.tableOptions().ttl };
  }

  /** TTL n: a non-negative integer literal (TDengine's grammar: TTL NK_INTEGER), clamped to INT32_MAX. */
  private ttlValue(): number {
    const v = this.peek();
    if (v.kind !== "number" || !/^\d+$/.test(v.text)) throw this.fail(v);
    this.next();
    return Math.min(Number(v.text), TTL_MAX);
  }

  /** Table options: TTL is kept; COMMENT, SMA and the rest are accepted and ignored. */
  private tableOptions(): { ttl?: number } {
    const out: { ttl?: number } = {};
    for (;;) {
      if (this.acceptKw("ttl")) out.ttl = this.ttlValue();
      else if (this.acceptKw("comment")) this.next();
      else if (this.acceptKw("max_delay") || this.acceptKw("watermark") || this.acceptKw("delete_mark")) {
        this.next();
        while (this.acceptOp(",")) this.next();
      } else if (this.acceptKw("sma") || this.acceptKw("rollup")) this.identList();
      else if (this.acceptKw("keep")) this.next();
      else if (this.acceptKw("virtual")) this.next();
      else break;
    }
    return out;
  }

  private identList(): string[] {
    this.expectOp("(");
    const out = [this.ident()];
    while (this.acceptOp(",")) out.push(this.ident());
    this.expectOp(")");
    return out;
  }

  private exprList(): Expr[] {
    this.expectOp("(");
    const out = [this.expr()];
    while (this.acceptOp(",")) out.push(this.expr());
    this.expectOp(")");
    return out;
  }

  private columnDefs(tags: boolean): ColumnDef[] {
    this.expectOp("(");
    const out: ColumnDef[] = [];
    do {
      const name = this.ident();
      out.push({ name, ...this.typeDef(tags) });
      // column options (3.3 compression options, PRIMARY KEY, COMMENT)
      for (;;) {
        if (this.acceptKw("encode") || this.acceptKw("compress") || this.acceptKw("level") || this.acceptKw("comment")) this.next();
        else if (this.acceptKw("primary")) {
          this.expectKw("key");
          throw notSupported("composite primary key");
        } else break;
      }
    } while (this.acceptOp(","));
    this.expectOp(")");
    return out;
  }

  private sizeArg(): number {
    this.expectOp("(");
    const t = this.next();
    if (t.kind !== "number" || !/^\d+$/.test(t.text)) throw this.fail(t);
    this.expectOp(")");
    return Number(t.text);
  }

  private typeDef(tag: boolean): Omit<ColumnDef, "name"> {
    const t = this.next();
    if (t.kind !== "ident") throw this.fail(t);
    const w = t.text.toLowerCase();
    const unsigned = (base: number, ubase: number, bytes: number): Omit<ColumnDef, "name"> =>
      this.acceptKw("unsigned") ? { type: ubase, bytes } : { type: base, bytes };
    switch (w) {
      case "timestamp":
        return { type: T.TIMESTAMP, bytes: 8 };
      case "bool":
        return { type: T.BOOL, bytes: 1 };
      case "tinyint":
        return unsigned(T.TINYINT, T.UTINYINT, 1);
      case "smallint":
        return unsigned(T.SMALLINT, T.USMALLINT, 2);
      case "int":
      case "integer":
        return unsigned(T.INT, T.UINT, 4);
      case "bigint":
        return unsigned(T.BIGINT, T.UBIGINT, 8);
      case "float":
        return { type: T.FLOAT, bytes: 4 };
      case "double":
        return { type: T.DOUBLE, bytes: 8 };
      case "binary":
      case "varchar":
        return { type: T.VARCHAR, bytes: this.sizeArg() };
      case "nchar":
        return { type: T.NCHAR, bytes: this.sizeArg() };
      case "varbinary":
        return { type: T.VARBINARY, bytes: this.sizeArg() };
      case "geometry":
        return { type: T.GEOMETRY, bytes: this.sizeArg() };
      case "json":
        if (!tag) throw new TdError(0x2652, "Only tag can be json type");
        return { type: T.JSON, bytes: 4095 };
      case "decimal": {
        this.expectOp("(");
        const p = Number(this.next().text);
        let s = 0;
        if (this.acceptOp(",")) s = Number(this.next().text);
        this.expectOp(")");
        if (!(p >= 1 && p <= 38 && s >= 0 && s <= p)) throw new TdError(0x2600, `syntax error near "decimal" (Invalid column type DECIMAL(${p},${s}))`);
        return p <= 18 ? { type: T.DECIMAL64, bytes: 8, decPrecision: p, decScale: s } : { type: T.DECIMAL, bytes: 16, decPrecision: p, decScale: s };
      }
      case "blob":
        // TDengine 3.3.7+: up to 4 MiB per value, u32 length prefix in raw blocks.
        if (tag) throw this.fail(t);
        return { type: T.BLOB, bytes: 4194304 };
      default:
        throw this.fail(t);
    }
  }

  /** A user's password: a quoted string. */
  private userPass(): string {
    const t = this.next();
    if (t.kind !== "string") throw this.fail(t);
    return t.text;
  }

  /** SYSINFO / CREATEDB / HOST ... options of CREATE and ALTER USER: privileges are not emulated. */
  private skipUserOptions(): void {
    while (this.peek().kind !== "eof" && !this.isOp(";")) this.next();
  }

  private drop(): Stmt {
    if (this.acceptKw("user")) {
      const ifExists = this.ifExists();
      return { t: "dropUser", ifExists, name: this.ident() };
    }
    if (this.acceptKw("topic")) {
      const ifExists = this.ifExists();
      return { t: "dropTopic", ifExists, name: this.ident() };
    }
    if (this.acceptKw("database")) {
      const ifExists = this.ifExists();
      return { t: "dropDb", ifExists, name: this.ident() };
    }
    const stable = this.acceptKw("stable");
    if (!stable && !this.acceptKw("table")) {
      if (this.peek().kind === "ident") throw notSupported(`DROP ${this.peek().text.toUpperCase()}`);
      throw this.fail();
    }
    const ifExists = this.ifExists();
    const names = [this.name()];
    while (this.acceptOp(",")) names.push(this.name());
    return { t: "dropTable", ifExists, names, stable };
  }

  private show(): Stmt {
    if (this.acceptKw("databases")) return { t: "show", what: "databases" };
    for (const what of ["topics", "consumers", "subscriptions"] as const) if (this.acceptKw(what)) return { t: "showTmq", what };
    if (this.acceptKw("connections")) return { t: "showConnections" };
    if (this.acceptKw("create")) {
      const what = this.next().text.toLowerCase();
      if (what !== "table" && what !== "stable" && what !== "database") throw this.fail();
      return { t: "showCreate", what, name: this.name() };
    }
    if (this.acceptKw("tags")) {
      this.expectKw("from");
      const table = this.name();
      if (this.acceptKw("from")) table.db = this.ident();
      return { t: "showTags", table };
    }
    let db: string | undefined;
    if (!this.isKw("stables") && !this.isKw("tables") && this.peek(1).kind === "op" && this.peek(1).text === ".") {
      db = this.ident();
      this.expectOp(".");
    }
    const what = this.acceptKw("stables") ? "stables" : this.acceptKw("tables") ? "tables" : null;
    if (!what) {
      if (this.peek().kind === "ident") throw notSupported(`SHOW ${this.peek().text.toUpperCase()}`);
      throw this.fail();
    }
    let like: string | undefined;
    if (this.acceptKw("like")) {
      const p = this.next();
      if (p.kind !== "string") throw this.fail(p);
      like = p.text;
    }
    return { t: "show", what, db, like };
  }

  private alter(): Stmt {
    if (this.acceptKw("user")) {
      const name = this.ident();
      const pass = this.acceptKw("pass") ? this.userPass() : undefined;
      this.skipUserOptions();
      return { t: "alterUser", name, pass };
    }
    const stable = this.acceptKw("stable");
    if (!stable && !this.acceptKw("table")) {
      if (this.peek().kind === "ident") throw notSupported(`ALTER ${this.peek().text.toUpperCase()}`);
      throw this.fail();
    }
    const name = this.name();
    let action: AlterAction;
    const kindOf = (): "column" | "tag" => {
      if (this.acceptKw("tag")) return "tag";
      this.expectKw("column");
      return "column";
    };
    if (this.acceptKw("add")) {
      const kind = kindOf();
      const n = this.ident();
      action = { op: "add", kind, def: { name: n, ...this.typeDef(kind === "tag") } };
    } else if (this.acceptKw("drop")) {
      const kind = kindOf();
      action = { op: "drop", kind, name: this.ident() };
    } else if (this.acceptKw("modify")) {
      const kind = kindOf();
      const n = this.ident();
      action = { op: "modify", kind, def: { name: n, ...this.typeDef(kind === "tag") } };
    } else if (this.acceptKw("rename")) {
      const kind = kindOf();
      const n = this.ident();
      action = { op: "rename", kind, name: n, to: this.ident() };
    } else if (this.acceptKw("set")) {
      this.expectKw("tag");
      const n = this.ident();
      this.expectOp("=");
      action = { op: "settag", name: n, value: this.expr() };
    } else if (this.isKw("ttl")) {
      const ttl = this.tableOptions().ttl as number;
      action = { op: "ttl", ttl };
    } else if (this.peek().kind === "ident") {
      throw notSupported(`ALTER TABLE ... ${this.peek().text.toUpperCase()}`);
    } else throw this.fail();
    // TDengine's grammar has options or a column/tag change, not both: a TTL after ADD COLUMN … is refused.
    const at = this.peek();
    if (action.op !== "ttl" && this.tableOptions().ttl !== undefined) throw this.fail(at);
    return { t: "alter", stable, name, action };
  }

  private insert(): Stmt {
    if (!this.acceptKw("into")) throw syntaxError(this.sql.slice(this.peek().pos), "keyword INTO is expected");
    const items: InsertItem[] = [];
    do {
      let table: InsertItem["table"];
      if (this.peek().kind === "param") {
        this.next();
        this.params++;
        table = { param: true };
      } else {
        const first = this.ident();
        if (this.acceptOp(".")) {
          if (this.peek().kind === "param") {
            this.next();
            this.params++;
            table = { param: true, db: first };
          } else table = { db: first, name: this.ident() };
        } else table = { name: first };
      }
      const item: InsertItem = { table, rows: [] };
      if (this.acceptKw("using")) {
        const stable = this.name();
        let tagNames: string[] | undefined;
        if (this.isOp("(")) tagNames = this.identList();
        this.expectKw("tags");
        item.using = { stable, tagNames, tags: this.exprList() };
        const ttl = this.tableOptions().ttl;
        if (ttl !== undefined) item.using.ttl = ttl;
      }
      if (this.isOp("(")) item.columns = this.identListAllowTbname();
      if (this.isKw("using") && item.columns) throw this.fail();
      this.expectKw("values");
      do item.rows.push(this.exprList());
      while (this.isOp("("));
      items.push(item);
    } while (this.peek().kind !== "eof" && !this.isOp(";") && !this.isKw("select"));
    if (this.isKw("select")) throw notSupported("INSERT ... SELECT");
    return { t: "insert", items };
  }

  private identListAllowTbname(): string[] {
    this.expectOp("(");
    const out = [this.ident()];
    while (this.acceptOp(",")) out.push(this.ident());
    this.expectOp(")");
    return out;
  }

  private select(): SelectStmt {
    const distinct = this.acceptKw("distinct");
    if (this.isKw("tags")) throw notSupported("SELECT TAGS");
    const items: SelectItem[] = [];
    do {
      const start = this.peek().pos;
      const expr = this.expr();
      const endPos = this.peek().pos;
      let label = this.sql.slice(start, endPos).trim();
      if (expr.k === "col") label = expr.name;
      let hasAlias = false;
      if (this.acceptKw("as")) {
        label = this.ident();
        hasAlias = true;
      } else if ((this.peek().kind === "ident" && !RESERVED.has(this.peek().text.toLowerCase())) || this.peek().kind === "qident") {
        label = this.ident();
        hasAlias = true;
      }
      items.push({ expr, label, hasAlias });
    } while (this.acceptOp(","));
    const s: SelectStmt = { t: "select", distinct, items, partitionBy: [], groupBy: [], orderBy: [] };
    if (this.acceptKw("from")) {
      if (this.acceptOp("(")) {
        if (!this.acceptKw("select")) throw this.fail();
        s.fromSub = this.select();
        this.expectOp(")");
      } else s.from = this.name();
      if (this.peek().kind === "ident" && !RESERVED.has(this.peek().text.toLowerCase())) this.ident(); // table alias
      else if (this.acceptKw("as")) this.ident();
      if (this.isOp(",") || this.isKw("join")) throw notSupported("join");
    }
    if (this.acceptKw("where")) s.where = this.expr();
    if (this.acceptKw("partition")) {
      this.expectKw("by");
      do s.partitionBy.push(this.expr());
      while (this.acceptOp(","));
    }
    if (this.acceptKw("interval")) {
      this.expectOp("(");
      const every = this.durationLit();
      const offset = this.acceptOp(",") ? this.durationLit() : undefined;
      this.expectOp(")");
      let sliding: string | undefined;
      if (this.acceptKw("sliding")) {
        this.expectOp("(");
        sliding = this.durationLit();
        this.expectOp(")");
      }
      s.interval = { every, offset, sliding };
      if (this.acceptKw("fill")) {
        this.expectOp("(");
        const m = this.next().text.toLowerCase();
        const mode = (m === "null_f" ? "null" : m === "value_f" ? "value" : m) as FillMode;
        if (!["none", "null", "value", "prev", "next", "linear"].includes(mode)) throw this.fail();
        const values: Expr[] = [];
        while (this.acceptOp(",")) values.push(this.expr());
        this.expectOp(")");
        if (mode === "value" && values.length === 0) throw syntaxError("fill", "fill value is expected");
        s.fill = { mode, values };
      }
    }
    if (this.acceptKw("group")) {
      this.expectKw("by");
      do s.groupBy.push(this.expr());
      while (this.acceptOp(","));
    }
    if (this.acceptKw("having")) s.having = this.expr();
    for (const kw of ["session", "state_window", "event_window", "count_window", "fill", "slimit", "union"])
      if (this.isKw(kw)) throw notSupported(kw.toUpperCase());
    if (this.acceptKw("order")) {
      this.expectKw("by");
      do {
        const expr = this.expr();
        let desc = false;
        if (this.acceptKw("desc")) desc = true;
        else this.acceptKw("asc");
        if (this.acceptKw("nulls")) {
          if (!this.acceptKw("first")) this.expectKw("last");
        }
        s.orderBy.push({ expr, desc });
      } while (this.acceptOp(","));
    }
    if (this.isKw("slimit")) throw notSupported("SLIMIT");
    if (this.acceptKw("limit")) {
      const a = this.intLit();
      if (this.acceptOp(",")) {
        s.offset = a;
        s.limit = this.intLit();
      } else {
        s.limit = a;
        if (this.acceptKw("offset")) s.offset = this.intLit();
      }
    }
    if (this.isKw("slimit") || this.isKw("soffset")) throw notSupported("SLIMIT");
    return s;
  }

  /** INTERVAL / SLIDING / offset argument: a duration literal such as 10s, 1d, 1n (months) or 1y. */
  private durationLit(): string {
    const t = this.next();
    if (t.kind === "duration") return t.text;
    throw this.fail(t);
  }

  private intLit(): number {
    const t = this.next();
    if (t.kind !== "number" || !/^\d+$/.test(t.text)) throw this.fail(t);
    return Number(t.text);
  }

  // ---- expressions: OR > AND > NOT > comparison > additive > multiplicative > unary > primary
  expr(): Expr {
    let l = this.andExpr();
    while (this.acceptKw("or")) l = { k: "bin", op: "or", l, r: this.andExpr() };
    return l;
  }
  private andExpr(): Expr {
    let l = this.notExpr();
    while (this.acceptKw("and")) l = { k: "bin", op: "and", l, r: this.notExpr() };
    return l;
  }
  private notExpr(): Expr {
    if (this.acceptKw("not")) return { k: "not", e: this.notExpr() };
    return this.cmpExpr();
  }
  private cmpExpr(): Expr {
    const l = this.addExpr();
    const t = this.peek();
    if (t.kind === "op" && ["=", "!=", "<", "<=", ">", ">="].includes(t.text)) {
      this.next();
      return { k: "bin", op: t.text, l, r: this.addExpr() };
    }
    let not = false;
    if (this.isKw("not") && (this.isKw("between", 1) || this.isKw("in", 1) || this.isKw("like", 1))) {
      this.next();
      not = true;
    }
    if (this.acceptKw("between")) {
      const lo = this.addExpr();
      this.expectKw("and");
      return { k: "between", e: l, lo, hi: this.addExpr(), not };
    }
    if (this.acceptKw("in")) return { k: "in", e: l, list: this.exprList(), not };
    if (this.acceptKw("is")) {
      const n = this.acceptKw("not");
      this.expectKw("null");
      return { k: "isnull", e: l, not: n };
    }
    if (this.acceptKw("like")) return { k: "like", e: l, pattern: this.addExpr(), not };
    if (this.isKw("match") || this.isKw("nmatch")) throw notSupported(this.peek().text.toUpperCase());
    return l;
  }
  private addExpr(): Expr {
    let l = this.mulExpr();
    for (;;) {
      if (this.isOp("+") || this.isOp("-")) {
        const op = this.next().text;
        l = { k: "bin", op, l, r: this.mulExpr() };
      } else return l;
    }
  }
  private mulExpr(): Expr {
    let l = this.unary();
    for (;;) {
      if (this.isOp("*") || this.isOp("/") || this.isOp("%")) {
        const op = this.next().text;
        l = { k: "bin", op, l, r: this.unary() };
      } else return l;
    }
  }
  private unary(): Expr {
    if (this.acceptOp("-")) {
      const e = this.unary();
      if (e.k === "num") return { k: "num", v: e.v.startsWith("-") ? e.v.slice(1) : "-" + e.v };
      return { k: "neg", e };
    }
    if (this.acceptOp("+")) return this.unary();
    return this.primary();
  }
  private primary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case "number":
        this.next();
        return { k: "num", v: t.text };
      case "string":
        this.next();
        return { k: "str", v: t.text };
      case "duration":
        this.next();
        return { k: "dur", v: t.text };
      case "param":
        this.next();
        return { k: "param", idx: this.params++ };
      case "op":
        if (t.text === "(") {
          this.next();
          const e = this.expr();
          this.expectOp(")");
          return e;
        }
        if (t.text === "*") {
          this.next();
          return { k: "star" };
        }
        throw this.fail();
      case "qident":
      case "ident": {
        const low = t.text.toLowerCase();
        if (t.kind === "ident") {
          if (low === "null") return this.next(), { k: "null" };
          if (low === "true" || low === "false") return this.next(), { k: "bool", v: low === "true" };
          if (this.isOp("(", 1)) {
            this.next();
            this.next();
            if (this.acceptOp(")")) return { k: "func", name: low, args: [], star: false };
            if (this.acceptOp("*")) {
              this.expectOp(")");
              return { k: "func", name: low, args: [], star: true };
            }
            const args = [this.expr()];
            while (this.acceptOp(",")) args.push(this.expr());
            this.expectOp(")");
            return { k: "func", name: low, args, star: false };
          }
          if (low === "now" || low === "today") return this.next(), { k: "func", name: low, args: [], star: false };
          if (RESERVED.has(low)) throw this.fail();
        }
        const first = this.ident();
        if (this.acceptOp(".")) {
          if (this.acceptOp("*")) return { k: "star" };
          return { k: "col", table: first, name: this.ident() };
        }
        return { k: "col", name: first };
      }
      default:
        throw this.fail();
    }
  }
}

export function parseSql(sql: string): { stmt: Stmt; params: number } {
  const p = new Parser(sql);
  const stmt = p.parse();
  return { stmt, params: p.params };
}
