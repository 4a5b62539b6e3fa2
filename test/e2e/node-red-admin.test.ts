// A real Node-RED (red.js of the runtime under test) lists and loads this package's nodes, and offers its
// examples under Import > Examples: the admin API, as the editor uses it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { allNodeTypes, flowNodeTypes } from "../support/package-info";
import { startNodeRed, packageName, type NodeRedProcess } from "../support/node-red-process";
import { runtimeVersion } from "../support/runtime";

describe(`a running Node-RED ${runtimeVersion}`, () => {
  let nr: NodeRedProcess;
  before(async () => {
    nr = await startNodeRed();
  });
  after(() => nr?.stop());

  it("GET /nodes lists every node type of the package, loaded and without error", async () => {
    const res = await nr.admin("GET", "/nodes");
    assert.equal(res.status, 200);
    const sets = (await res.json()) as { module: string; types: string[]; enabled: boolean; err?: unknown }[];
    const ours = sets.filter((s) => s.module === packageName);
    assert.deepEqual(ours.flatMap((s) => s.types).sort(), [...allNodeTypes].sort());
    for (const s of ours) {
      assert.equal(s.err ?? null, null, `${s.types} loaded without error`);
      assert.equal(s.enabled, true, `${s.types} enabled`);
    }
    assert.doesNotMatch(nr.output(), /\[(?:tdengine|perspective)-[a-z-]+\] (?:Error|TypeError)/);
  });

  it("the editor receives each node's definition and help", async () => {
    const res = await fetch(nr.url + "/nodes", { headers: { Accept: "text/html" } });
    const html = await res.text();
    for (const t of allNodeTypes) {
      assert.ok(html.includes(`data-template-name="${t}"`), `${t} template`);
      assert.ok(html.includes(`data-help-name="${t}"`), `${t} help`);
    }
  });

  it("Import > Examples offers the package's examples, and they use every flow node type", async () => {
    const list = await (await nr.admin("GET", "/library/examples/flows/")).json();
    assert.ok(JSON.stringify(list).includes(packageName), "package listed under examples");
    const res = await nr.admin("GET", `/library/examples/flows/${packageName}/flows`);
    assert.equal(res.status, 200);
    const flow = (await res.json()) as { type: string }[];
    for (const t of flowNodeTypes) assert.ok(flow.some((n) => n.type === t), `example uses ${t}`);
  });
});
