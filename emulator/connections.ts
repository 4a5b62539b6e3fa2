// Open connections (SHOW CONNECTIONS, performance_schema.perf_connections): /ws sessions after `conn` and /rest/tmq
// consumers after `subscribe`, with the app, ip and connector text their clients send.
import { T, type ColumnDef, type Value } from "./types.js";

export interface ConnectionInfo {
  id: number;
  user: string;
  app: string;
  ip: string;
  endPoint: string;
  connector: string;
  loginTime: number;
  lastAccess: number;
}

const v = (name: string, bytes: number): ColumnDef => ({ name, type: T.VARCHAR, bytes });
const ts = (name: string): ColumnDef => ({ name, type: T.TIMESTAMP, bytes: 8 });

export const CONNECTION_COLUMNS: ColumnDef[] = [
  { name: "conn_id", type: T.UINT, bytes: 4 },
  v("user", 23),
  v("app", 23),
  { name: "pid", type: T.UINT, bytes: 4 },
  v("end_point", 128),
  ts("login_time"),
  ts("last_access"),
  v("user_app", 23),
  v("user_ip", 46),
  v("connector_info", 255),
];

export class Connections {
  private nextId = 1;
  readonly open = new Set<ConnectionInfo>();

  add(info: Omit<ConnectionInfo, "id" | "loginTime" | "lastAccess">): ConnectionInfo {
    const now = Date.now();
    const c = { ...info, id: this.nextId++, loginTime: now, lastAccess: now };
    this.open.add(c);
    return c;
  }

  remove(c: ConnectionInfo | null): void {
    if (c) this.open.delete(c);
  }

  rows(): Value[][] {
    return [...this.open].map((c) => [c.id, c.user, c.app, 0, c.endPoint, BigInt(c.loginTime), BigInt(c.lastAccess), c.app, c.ip, c.connector]);
  }
}

/** Text of an optional string argument (app, ip, connector), "" otherwise. */
export function textArg(v: unknown): string {
  return typeof v === "string" ? v.slice(0, 255) : "";
}
