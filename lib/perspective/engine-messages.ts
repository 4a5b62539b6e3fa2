// The messages between a Perspective host (Node-RED's thread) and its engine (a worker thread). Request and
// response bytes travel as transferred ArrayBuffers, never copied value by value.
import type { Columnar } from "./values";

export interface TableOptionsMsg {
  name: string;
  index?: string;
  limit?: number;
}

/** Table operations the host asks of the engine (each answered by a `result` with the same id). */
export type EngineCall =
  | { fn: "make"; schema: Record<string, string>; options: TableOptionsMsg }
  | { fn: "update"; entity: string; data: Columnar }
  | { fn: "updateArrow"; entity: string; arrow: ArrayBuffer }
  | { fn: "replace"; entity: string; data: Columnar }
  | { fn: "clear"; entity: string }
  | { fn: "remove"; entity: string; keys: unknown[] }
  | { fn: "size"; entity: string }
  | { fn: "delete"; entity: string }
  /** A flat view's Arrow snapshot of the table (the host compacts its replay log with it). */
  | { fn: "snapshot"; entity: string };

export type ToEngine =
  | { op: "ping"; n: number }
  | { op: "open"; sid: number }
  | { op: "request"; sid: number; buf: Uint8Array }
  | { op: "close"; sid: number }
  | { op: "call"; id: number; call: EngineCall }
  /** Start / stop the table's shared flat view whose row deltas go to every subscribed browser (fanout.ts). */
  | { op: "watch"; entity: string }
  | { op: "unwatch"; entity: string }
  /** Test hooks of the supervisor: die, or spin without answering heartbeats. */
  | { op: "crash" }
  | { op: "hang" };

export type FromEngine =
  /** tid: the engine thread's kernel id (Linux), so the supervisor can read its CPU time. */
  | { op: "ready"; tid?: number }
  | { op: "pong"; n: number }
  | { op: "response"; sid: number; buf: Uint8Array }
  | { op: "result"; id: number; value?: unknown; error?: string }
  | { op: "warning"; message: string }
  /** A row delta of a watched table, serialised once for all its subscribers. */
  | { op: "delta"; entity: string; buf?: Uint8Array; port: number };
