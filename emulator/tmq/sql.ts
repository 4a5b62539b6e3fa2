// TMQ statements and system tables: CREATE / DROP TOPIC, SHOW TOPICS | CONSUMERS | SUBSCRIPTIONS, and the
// information_schema tables behind them (ins_topics, ins_subscriptions; consumers are performance_schema's
// perf_consumers, also answered as ins_consumers), with TDengine 3.3's columns (source/common/src/systable.c).
import { ValuesResult, type ExecResult, type ResultColumn } from "../result.js";
import { T, typeName, type Value } from "../types.js";
import type { Stmt } from "../sql/ast.js";
import { resolveDb, type EngineContext } from "../sql/context.js";
import { TMQ_CODE } from "./constants.js";
import { key } from "./groups.js";
import type { TmqState } from "./state.js";
import { defineTopic, tmqError, type TopicSource } from "./topics.js";

const v = (name: string, length: number): ResultColumn => ({ name, type: T.VARCHAR, length });
const ts = (name: string): ResultColumn => ({ name, type: T.TIMESTAMP, length: 8 });

export const TOPIC_COLUMNS: ResultColumn[] = [v("topic_name", 192), v("db_name", 64), ts("create_time"), v("sql", 2048), v("schema", 16384), v("meta", 4), v("type", 8)];
export const CONSUMER_COLUMNS: ResultColumn[] = [v("consumer_id", 32), v("consumer_group", 192), v("client_id", 192), v("status", 20), v("topics", 192), ts("up_time"), ts("subscribe_time"), ts("rebalance_time"), v("parameters", 128)];
export const SUBSCRIPTION_COLUMNS: ResultColumn[] = [v("topic_name", 192), v("consumer_group", 192), { name: "vgroup_id", type: T.INT, length: 4 }, v("consumer_id", 32), v("offset", 64), { name: "rows", type: T.BIGINT, length: 8 }];

export function topicRows(tmq: TmqState): Value[][] {
  return [...tmq.topics.values()].map((t) => {
    const schema = t.columns ? JSON.stringify(t.columns.map((c) => ({ name: c.name, type: typeName(c.type), length: c.length }))) : null;
    const type = t.source.kind === "select" ? "column" : t.source.kind === "stable" ? "stable" : "db";
    return [t.name, t.db.name, BigInt(t.createdAt), t.sql, schema, t.withMeta ? "yes" : "no", type];
  });
}

export function consumerRows(tmq: TmqState): Value[][] {
  return tmq.consumers().flatMap((c) => {
    const p = c.config;
    const params = `tbname:${p.withTableName ? 1 : 0},commit:${p.autoCommit ? 1 : 0},interval:${p.autoCommitIntervalMs}ms,reset:${p.offsetReset}`;
    const topics = c.topics.length ? c.topics.map((t) => t.name) : [null];
    return topics.map((t) => [c.hexId, c.group.name, c.config.clientId, c.status, t, BigInt(c.upTime), BigInt(c.subscribeTime), BigInt(c.rebalanceTime), params]);
  });
}

/** One row per (topic, group, vgroup) the group consumes or has committed. */
export function subscriptionRows(tmq: TmqState): Value[][] {
  const rows: Value[][] = [];
  for (const g of tmq.groups.values()) {
    const names = new Set<string>();
    for (const m of g.members) for (const t of m.topics) names.add(t.name);
    for (const k of g.committed.keys()) names.add(k.split("\u0000")[0]);
    for (const name of [...names].sort()) {
      const topic = tmq.topics.get(name);
      if (!topic) continue;
      for (const vg of topic.db.vgroups) {
        const k = key(name, vg.id);
        const owner = g.members.find((m) => m.assignment.has(k));
        const committed = g.committed.get(k);
        rows.push([name, g.name, vg.id, owner?.hexId ?? null, committed === undefined ? null : `log:${committed}`, BigInt(g.rows.get(k) ?? 0)]);
      }
    }
  }
  return rows;
}

function sourceOf(st: Extract<Stmt, { t: "createTopic" }>, ctx: EngineContext): { dbName: string | undefined; source: TopicSource } {
  const s = st.source;
  if (s.kind === "select") return { dbName: s.select.from?.db, source: { kind: "select", select: s.select } };
  if (s.kind === "stable") return { dbName: s.name.db, source: { kind: "stable", stable: s.name.name, where: s.where } };
  void ctx;
  return { dbName: s.name, source: { kind: "database" } };
}

export function execTmqStmt(st: Stmt, ctx: EngineContext, tmq: TmqState, sql: string): ExecResult {
  const updated: ExecResult = { kind: "update", affectedRows: 0 };
  switch (st.t) {
    case "createTopic": {
      if (tmq.topics.has(st.name)) {
        if (st.ifNotExists) return updated;
        throw tmqError(TMQ_CODE.TOPIC_EXIST);
      }
      const { dbName, source } = sourceOf(st, ctx);
      const db = resolveDb(ctx, dbName);
      tmq.topics.set(st.name, defineTopic(st.name, db, source, st.withMeta, sql, ctx.serverVersion));
      return updated;
    }
    case "dropTopic": {
      if (!tmq.topics.has(st.name)) {
        if (st.ifExists) return updated;
        throw tmqError(TMQ_CODE.TOPIC_NOT_EXIST);
      }
      if (tmq.consumers().some((c) => c.topics.some((t) => t.name === st.name))) throw tmqError(TMQ_CODE.TOPIC_SUBSCRIBED);
      tmq.topics.delete(st.name);
      for (const g of tmq.groups.values()) {
        for (const k of [...g.committed.keys()]) if (k.startsWith(`${st.name}\u0000`)) g.committed.delete(k);
        for (const k of [...g.rows.keys()]) if (k.startsWith(`${st.name}\u0000`)) g.rows.delete(k);
      }
      return updated;
    }
    case "showTmq": {
      if (st.what === "topics") return { kind: "rows", result: new ValuesResult([TOPIC_COLUMNS[0]], topicRows(tmq).map((r) => [r[0]])) };
      if (st.what === "consumers") return { kind: "rows", result: new ValuesResult(CONSUMER_COLUMNS, consumerRows(tmq)) };
      return { kind: "rows", result: new ValuesResult(SUBSCRIPTION_COLUMNS, subscriptionRows(tmq)) };
    }
    default:
      throw new Error("not a TMQ statement");
  }
}
