// A real Node-RED (red.js of the runtime under test) lists and loads this package's nodes, and offers its
// examples under Import > Examples: the admin API, as the editor uses it.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { allNodeTypes, flowNodeTypes, root } from "../support/package-info";
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
    // Each examples/*.json is offered under its name; together they use every flow node type.
    const used = new Set<string>();
    for (const name of readdirSync(join(root, "examples")).filter((f) => f.endsWith(".json")).map((f) => f.replace(/\.json$/, ""))) {
      const res = await nr.admin("GET", `/library/examples/flows/${packageName}/${name}`);
      assert.equal(res.status, 200, `example ${name} served`);
      for (const n of (await res.json()) as { type: string }[]) used.add(n.type);
    }
    for (const t of flowNodeTypes) assert.ok(used.has(t), `an example uses ${t}`);
  });
});
