// The frames the host sends for a shared on_update subscription (fanout.ts) must be the bytes Perspective
// 3.8.0's own server sends that client: recorded here from a real engine session (a remote client subscribing
// in row mode, then removing its subscription), next to the frames built from the shared view's delta.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadPerspective } from "../../lib/perspective/load";
import { encodeEmptyResponse, encodeResponsePrefix, encodeUpdateResponse, KIND, readRequestHeader } from "../../lib/perspective/protocol";

describe("shared row-delta frames", () => {
  it("are byte for byte the engine's own on_update and remove_update replies", async () => {
    const psp = await loadPerspective();
    const server = new psp.PerspectiveServer();
    const local: { c?: { handle_response(r: Uint8Array): Promise<void> } } = {};
    const ls = server.make_session(async (r: Uint8Array) => local.c!.handle_response(r));
    const lc = psp.make_client(async (q: Uint8Array) => ls.handle_request(q));
    local.c = lc;
    const t = await lc.table({ seq: "integer", ts: "datetime", key: "string" } as unknown as Record<string, unknown[]>, { name: "ring", limit: 10 });
    const shared: Uint8Array[] = [];
    const sv = await t.view();
    await sv.on_update(({ delta }: { delta: ArrayBuffer }) => shared.push(new Uint8Array(delta.slice(0))), { mode: "row" });

    const sent: Uint8Array[] = [];
    const got: Uint8Array[] = [];
    const remote: { c?: { handle_response(r: Uint8Array): Promise<void> } } = {};
    const rs = server.make_session(async (r: Uint8Array) => {
      got.push(r.slice());
      await remote.c!.handle_response(r);
    });
    const rc = psp.make_client(async (q: Uint8Array) => {
      sent.push(q.slice());
      await rs.handle_request(q);
    });
    remote.c = rc;
    const view = await (await rc.open_table("ring")).view();
    const makeView = readRequestHeader(sent.find((q) => readRequestHeader(q).kind === KIND.MAKE_VIEW)!);
    assert.equal(makeView.wholeTable, true, "a page's view() is a flat view of the whole table");

    const before = got.length;
    const id = await view.on_update(() => undefined, { mode: "row" });
    assert.equal(got.length, before, "no reply to the subscription itself");
    const sub = readRequestHeader(sent[sent.length - 1]);
    assert.equal(sub.kind, KIND.VIEW_ON_UPDATE);
    assert.equal(sub.rowMode, true);
    assert.equal(sub.msgId, id, "the subscription id is its msg_id");

    await t.update([{ seq: 1, ts: 1000, key: "a" }, { seq: 2, ts: 2000, key: "b" }] as unknown as Record<string, unknown[]>);
    await t.update([{ seq: 3, ts: 3000, key: "c" }] as unknown as Record<string, unknown[]>);
    await view.to_arrow();
    const deltas = got.slice(before).filter((r) => readRequestHeader(r).kind === KIND.VIEW_ON_UPDATE);
    assert.equal(deltas.length, 2);
    assert.equal(shared.length, 2);
    const prefix = encodeResponsePrefix(sub.msgId, sub.entityId);
    for (let i = 0; i < 2; i++) assert.deepEqual(new Uint8Array(encodeUpdateResponse(prefix, shared[i], 0)), deltas[i], `delta ${i + 1}`);

    const n = got.length;
    await view.remove_update(id);
    const rm = readRequestHeader(sent[sent.length - 1]);
    assert.equal(rm.kind, KIND.VIEW_REMOVE_ON_UPDATE);
    assert.equal(rm.removeId, id);
    assert.deepEqual(encodeEmptyResponse(encodeResponsePrefix(rm.msgId, rm.entityId), KIND.VIEW_REMOVE_ON_UPDATE), got[n]);
    await view.delete();
    await sv.delete();
    await t.delete();
  });

  it("a view with any config, or an on_update without row mode, is not served from the shared deltas", async () => {
    const psp = await loadPerspective();
    const server = new psp.PerspectiveServer();
    const sent: Uint8Array[] = [];
    const local: { c?: { handle_response(r: Uint8Array): Promise<void> } } = {};
    const ls = server.make_session(async (r: Uint8Array) => local.c!.handle_response(r));
    const lc = psp.make_client(async (q: Uint8Array) => {
      sent.push(q.slice());
      await ls.handle_request(q);
    });
    local.c = lc;
    const t = await lc.table({ a: "integer", b: "string" } as unknown as Record<string, unknown[]>, { name: "x" });
    const v = await t.view({ columns: ["a"] });
    assert.equal(readRequestHeader(sent.find((q) => readRequestHeader(q).kind === KIND.MAKE_VIEW)!).wholeTable, false);
    await v.on_update(() => undefined);
    assert.equal(readRequestHeader(sent[sent.length - 1]).rowMode, false);
    await v.delete();
    await t.delete();
  });
});
