// Every node type registers with the runtime under test and ships an editor with help text.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import helper from "../support/helper";
import { allNodeTypes, configNodeTypes, nodeFiles, nodeModule, root } from "../support/package-info";

describe("node registration", () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  for (const type of allNodeTypes) {
    it(`${type}: the runtime module registers the type and a node of it starts`, async () => {
      const mod = nodeModule(type);
      assert.equal(typeof mod, "function", "export = function (RED) {...}");
      await helper.load(mod, [{ id: "n1", type, name: "under test" }]);
      const n = helper.getNode("n1");
      assert.ok(n, `${type} node created`);
      assert.equal(n.type, type);
    });
  }
});

describe("editor HTML", () => {
  for (const type of allNodeTypes) {
    it(`${type}: registers in the editor, has a template and help with Inputs / Outputs / Details`, () => {
      const html = readFileSync(join(root, nodeFiles[type].replace(/\.js$/, ".html")), "utf8");
      assert.match(html, new RegExp(`RED\\.nodes\\.registerType\\(\\s*["']${type}["']`));
      assert.match(html, new RegExp(`data-template-name=["']${type}["']`));
      const help = new RegExp(`data-help-name=["']${type}["'][^>]*>([\\s\\S]*?)</script>`).exec(html);
      assert.ok(help, "help block");
      if (!configNodeTypes.includes(type)) {
        for (const h of ["Inputs", "Outputs", "Details"]) assert.match(help[1], new RegExp(`<h3>${h}</h3>`), h);
      } else {
        assert.match(help[1], /<h3>Details<\/h3>/);
      }
    });
  }
});
