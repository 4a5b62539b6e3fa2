// Small pure pieces of the session: URL normalisation, version comparison for the server gate, req ids.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compareVersions, MIN_SERVER_VERSION, TdengineError } from "../../lib/tdengine";
import { wsUrl } from "../../lib/tdengine/connection";
import { nextReqId } from "../../lib/tdengine/req-id";

describe("wsUrl", () => {
  it("adds the /ws path when absent and keeps an explicit path", () => {
    assert.equal(wsUrl("ws://127.0.0.1:6041"), "ws://127.0.0.1:6041/ws");
    assert.equal(wsUrl("ws://127.0.0.1:6041/"), "ws://127.0.0.1:6041/ws");
    assert.equal(wsUrl("wss://h:8443/proxy/ws"), "wss://h:8443/proxy/ws");
    assert.equal(wsUrl("http://h:6041"), "ws://h:6041/ws");
  });

  it("sends a Cloud token as query parameter", () => {
    assert.equal(wsUrl("wss://cloud.example:443", "a b&c"), "wss://cloud.example/ws?token=a+b%26c");
  });

  it("rejects other schemes and garbage with kind invalid", () => {
    for (const bad of ["ftp://h", "not a url", ""]) {
      assert.throws(() => wsUrl(bad), (e: unknown) => e instanceof TdengineError && e.kind === "invalid", bad);
    }
  });
});

describe("server version gate", () => {
  it("compares dotted versions numerically and ignores suffixes", () => {
    assert.equal(MIN_SERVER_VERSION, "3.3.6.0");
    assert.equal(compareVersions("3.3.6.0", "3.3.6.0"), 0);
    assert.equal(compareVersions("3.3.10.0", "3.3.6.0"), 1);
    assert.equal(compareVersions("3.3.5.9", "3.3.6.0"), -1);
    assert.equal(compareVersions("3.3.6.0.0613", "3.3.6.0"), 1);
    assert.equal(compareVersions("3.4.0.0-alpha", "3.3.6.0"), 1);
    assert.equal(compareVersions("ver-3.4.1.12", "3.3.6.0"), 1);
    assert.equal(compareVersions("", "3.3.6.0"), -1);
  });
});

describe("req ids", () => {
  it("are unique, increasing, non-zero safe integers", () => {
    const ids = Array.from({ length: 1000 }, () => nextReqId());
    assert.ok(ids.every((id, i) => id > 0 && Number.isSafeInteger(id) && (i === 0 || id > ids[i - 1])));
  });
});
