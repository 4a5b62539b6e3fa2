// wss:// against the emulator with a self-signed certificate: trusted through `tls.ca`, refused (kind "tls",
// not retryable) without it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEmulator, type Emulator } from "../../emulator/index.js";
import { openClient, TdengineError } from "../../lib/tdengine/index.js";
import { TEST_TLS_CERT, TEST_TLS_KEY } from "../support/tls-fixture.js";

let emu: Emulator;
before(async () => {
  emu = await startEmulator({ tls: { key: TEST_TLS_KEY, cert: TEST_TLS_CERT } });
});
after(async () => {
  await emu.stop();
});

describe("client over TLS", () => {
  it("connects with the server's certificate as CA and runs a query", async () => {
    assert.match(emu.wsUrl, /^wss:/);
    const c = await openClient({ url: emu.wsUrl, tls: { ca: TEST_TLS_CERT } });
    try {
      await c.exec("CREATE DATABASE IF NOT EXISTS secure");
      const r = await c.query("SHOW DATABASES");
      assert.ok(r.rows.some((row) => row[0] === "secure"));
    } finally {
      await c.close();
    }
  });

  it("refuses an untrusted certificate with kind tls", async () => {
    await assert.rejects(openClient({ url: emu.wsUrl }), (e: unknown) => e instanceof TdengineError && e.kind === "tls" && !e.retryable);
  });
});
