// Emulator cluster mode: N taosAdapter endpoints over one store, each stopped and started alone, through the
// programmatic API and through the command line (stdin keystrokes).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { startEmulatorCluster } from "../../emulator/index.js";
import { waitFor } from "../support/wait.js";

const BASIC = "Basic " + Buffer.from("root:taosdata").toString("base64");

async function rest(httpUrl: string, sql: string): Promise<{ code: number; data?: unknown[][] }> {
  const r = await fetch(`${httpUrl}/rest/sql`, { method: "POST", body: sql, headers: { Authorization: BASIC } });
  return (await r.json()) as { code: number; data?: unknown[][] };
}

const refused = (httpUrl: string): Promise<boolean> => fetch(`${httpUrl}/-/ping`).then(() => false, () => true);

/** Two consecutive ports that were free a moment ago (the CLI takes P..P+N-1). */
async function freePortPair(): Promise<number> {
  const tryListen = (port: number): Promise<boolean> =>
    new Promise((ok) => {
      const s = createServer();
      s.once("error", () => ok(false));
      s.listen(port, "127.0.0.1", () => s.close(() => ok(true)));
    });
  for (let i = 0; i < 50; i++) {
    const p = 20000 + Math.floor(Math.random() * 20000);
    if ((await tryListen(p)) && (await tryListen(p + 1))) return p;
  }
  throw new Error("no two consecutive free ports");
}

describe("emulator cluster mode", () => {
  it("serves one store on every endpoint; one endpoint stops and restarts alone, data kept", async () => {
    const cluster = await startEmulatorCluster({ endpoints: 3 });
    try {
      assert.equal(cluster.endpoints.length, 3);
      assert.equal(new Set(cluster.endpoints.map((e) => e.port)).size, 3);
      assert.equal(cluster.wsUrls, cluster.endpoints.map((e) => e.wsUrl).join(","));
      const [a, b, c] = cluster.endpoints;
      assert.equal((await rest(a.httpUrl, "CREATE DATABASE db1")).code, 0);
      assert.equal((await rest(b.httpUrl, "CREATE TABLE db1.t (ts TIMESTAMP, v INT)")).code, 0);
      assert.equal((await rest(c.httpUrl, "INSERT INTO db1.t VALUES (1700000000000, 7)")).code, 0);
      await b.stop();
      assert.equal(b.running(), false);
      assert.ok(await refused(b.httpUrl), "the stopped endpoint refuses connections");
      assert.deepEqual((await rest(a.httpUrl, "SELECT v FROM db1.t")).data, [[7]], "the others still serve the store");
      assert.equal((await rest(c.httpUrl, "INSERT INTO db1.t VALUES (1700000000001, 8)")).code, 0);
      await b.start();
      assert.deepEqual((await rest(b.httpUrl, "SELECT v FROM db1.t")).data, [[7], [8]], "back on the same port with the shared data");
      assert.equal(Number(cluster.sql("SELECT COUNT(*) FROM db1.t").rows[0][0]), 2);
    } finally {
      await cluster.stop();
    }
  });

  it("npm run emulator -- --endpoints 2: a number on stdin stops and restarts that endpoint", async () => {
    const port = await freePortPair();
    const cli = resolve(__dirname, "../../emulator/cli.js");
    const child = spawn(process.execPath, [cli, "--port", String(port), "--endpoints", "2"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    try {
      await waitFor("the cluster listening", () => out.includes("0:" + port + "=up 1:" + (port + 1) + "=up"));
      const second = `http://127.0.0.1:${port + 1}`;
      assert.equal((await rest(second, "CREATE DATABASE cli1")).code, 0);
      child.stdin.write("1\n");
      await waitFor("endpoint 1 stopped", () => out.includes("endpoint 1 (") && out.includes("stopped;"));
      assert.ok(await refused(second));
      assert.equal((await rest(`http://127.0.0.1:${port}`, "SHOW DATABASES")).code, 0, "endpoint 0 still up");
      child.stdin.write("1\n");
      await waitFor("endpoint 1 listening again", () => out.includes("listening;"));
      const dbs = await rest(second, "SHOW DATABASES");
      assert.ok(JSON.stringify(dbs.data).includes("cli1"), "same store after the restart");
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
});
