// The offline part of the flow library's scorecard (node-red-dev validate needs the internet), so that a
// change to package.json or examples/ that would fail the scorecard fails here first.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { allNodeTypes, configNodeTypes, flowNodeTypes, manifest, root } from "../support/package-info";
import { runtimeDir } from "../support/runtime";

const semverGte = (v: string, min: string): boolean => {
  const a = v.split(/[.-]/).map(Number);
  const b = min.split(/[.-]/).map(Number);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
};
const minOf = (range: string): string => {
  const m = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(range.trim());
  assert.ok(m, `range ${range} should be a plain ">=x.y.z" so its minimum is clear`);
  const parts = m[1].split(".");
  while (parts.length < 3) parts.push("0");
  return parts.join(".");
};

test("P01/P02: licence and repository/bugs are declared", () => {
  assert.equal(manifest.license, "Apache-2.0");
  const repo = typeof manifest.repository === "string" ? manifest.repository : manifest.repository?.url;
  assert.match(repo ?? "", /^git\+https:\/\/|^https:\/\//);
  const bugs = typeof manifest.bugs === "string" ? manifest.bugs : manifest.bugs?.url;
  assert.match(bugs ?? "", /^https:\/\//);
  assert.ok(existsSync(join(root, "LICENSE")), "LICENSE file");
  assert.ok(existsSync(join(root, "README.md")), "README.md");
});

test("P04: the name is scoped (new packages must be) or node-red-contrib-*", () => {
  assert.match(manifest.name, /^@[a-z0-9-]+\/[a-z0-9-]+$|^node-red-contrib-/);
});

test("P05: keywords include node-red, tdengine, perspective and node-red-dashboard-2 (the widget)", () => {
  for (const k of ["node-red", "tdengine", "perspective", "node-red-dashboard-2"]) assert.ok(manifest.keywords?.includes(k), k);
});

test("Dashboard 2.0: the widget section points at a shipped resource; the dashboard is an optional peer, never a dependency", () => {
  const section = manifest["node-red-dashboard-2"];
  assert.ok(section, "node-red-dashboard-2 section");
  assert.deepEqual(Object.keys(section.widgets), ["ui-perspective"], "keyed by the node type");
  const w = section.widgets["ui-perspective"];
  assert.equal(w.component, "UIPerspective");
  assert.ok(existsSync(join(root, "resources", w.output)), `resources/${w.output}`);
  assert.ok(manifest.files?.includes("resources"), "resources/ is published");
  const dash = "@flowfuse/node-red-dashboard";
  assert.ok(!(dash in (manifest.dependencies ?? {})), "not a runtime dependency");
  assert.ok(manifest.peerDependencies?.[dash], "a peer dependency");
  assert.equal(manifest.peerDependenciesMeta?.[dash]?.optional, true, "an optional one");
});

interface Lock {
  packages: Record<string, { version?: string; dev?: boolean; optional?: boolean; engines?: { node?: string } | string[] }>;
}
/**
 * What the installs hold: the root (`npm ci`: Node-RED 4.1), tools/node22 (Node 22, installed by any npm) and
 * tools/node22/node-red-5 (Node-RED 5, installed by npm running on that Node 22).
 */
const readLock = (...dir: string[]): Lock => JSON.parse(readFileSync(join(root, ...dir, "package-lock.json"), "utf8")) as Lock;
const rootLock = readLock();
const node22Lock = readLock("tools", "node22");
const nodeRed5Lock = readLock("tools", "node22", "node-red-5");
/** The exact Node 22 that tools/node22 holds. */
const node22 = (JSON.parse(readFileSync(join(root, "tools", "node22", "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies.node;
const nodeRedIn = (lock: Lock) => lock.packages["node_modules/node-red"];
// semver from the runtime under test (Node-RED depends on it), not a dependency of this package.
const semver = require(require.resolve("semver", { paths: [runtimeDir] })) as { satisfies(v: string, range: string): boolean };

test("P06: node-red.version is satisfied by every Node-RED version the suite runs against", () => {
  const min = minOf(manifest["node-red"].version ?? "");
  const nr4 = nodeRedIn(rootLock)?.version ?? "";
  const nr5 = nodeRedIn(nodeRed5Lock)?.version ?? "";
  assert.match(nr4, /^4\.1\./, "the root install holds Node-RED 4.1");
  assert.match(nr5, /^5\.0\./, "tools/node22/node-red-5 holds Node-RED 5.0");
  for (const v of [nr4, nr5]) assert.ok(semverGte(v, min), `node-red@${v} satisfies >=${min}`);
  assert.ok(semverGte("4.0.0", min), "Node-RED 4.0 is supported");
});

test("P07: engines.node admits Node-RED 5's minimum Node and this machine's Node 20", () => {
  const min = minOf(manifest.engines?.node ?? "");
  const nr5 = (nodeRedIn(nodeRed5Lock)?.engines as { node: string }).node;
  assert.ok(semverGte(minOf(nr5), min), `Node-RED 5 needs ${nr5}; package allows >=${min}`);
  assert.ok(semverGte("20.0.0", min), "Node 20 is allowed");
});

/** Installed packages whose engines.node the given Node does not satisfy: what npm warns EBADENGINE about. */
function badEngines(lock: Lock, nodeVersion: string): string[] {
  return Object.entries(lock.packages)
    .filter(([path, p]) => path !== "" && !p.optional && !Array.isArray(p.engines) && p.engines?.node)
    .filter(([, p]) => !semver.satisfies(nodeVersion, (p.engines as { node: string }).node))
    .map(([path, p]) => `${path}@${p.version} needs node ${(p.engines as { node: string }).node}`);
}

test("npm ci at the root warns no EBADENGINE on Node 20: Node-RED 5 is not in the root install", () => {
  // The Node 20 of the suite's first run; on the Node 22 run, the Node 20 that CI installs the root with.
  const node20 = process.versions.node.startsWith("20.") ? process.versions.node : "20.19.0";
  assert.deepEqual(badEngines(rootLock, node20), []);
  assert.deepEqual(badEngines(rootLock, node22), [], "nor on tools/node22's Node 22");
});

test("tools/node22 installs without EBADENGINE: Node 22 with any npm, Node-RED 5 with npm on that Node 22", () => {
  assert.match(node22, /^22\.\d+\.\d+$/, "an exact Node 22 version");
  assert.equal(nodeRedIn(node22Lock), undefined, "Node-RED 5 is not in tools/node22's own install (npm on Node 20 runs it)");
  assert.deepEqual(badEngines(node22Lock, "20.0.0"), []);
  assert.deepEqual(badEngines(nodeRed5Lock, node22), []);
});

test("node-red.nodes lists exactly the node files, each built with its editor HTML next to it", () => {
  const nodes = manifest["node-red"].nodes;
  assert.deepEqual(Object.keys(nodes).sort(), [...allNodeTypes].sort());
  for (const [type, file] of Object.entries(nodes)) {
    assert.match(file, /\.js$/, `${type} points at a .js file`);
    assert.ok(existsSync(join(root, file)), `${file} exists (npm run build)`);
    // N01 derives the html path this way: it must sit next to the compiled js.
    assert.ok(existsSync(join(root, file.replace(/\.js$/, ".html"))), `${type} editor html next to its js`);
    assert.ok(existsSync(join(root, file.replace(/[^/]+\.js$/, `locales/en-US/${type}.json`))), `${type} locale`);
  }
});

test("N02: examples/ together use every non-config node type, and only types that exist", () => {
  const dir = join(root, "examples");
  const used = new Set<string>();
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  assert.ok(files.includes("flows.json"), "examples/flows.json");
  for (const f of files) {
    const flow = JSON.parse(readFileSync(join(dir, f), "utf8")) as { type: string }[];
    assert.ok(Array.isArray(flow) && flow.length > 0, `${f} is a non-empty flow array`);
    for (const n of flow) used.add(n.type);
  }
  for (const t of flowNodeTypes) assert.ok(used.has(t), `an example uses ${t}`);
  for (const t of used) {
    if (t.startsWith("tdengine-") || t.startsWith("perspective-")) {
      assert.ok([...flowNodeTypes, ...configNodeTypes].includes(t), `example type ${t} exists`);
    }
  }
});

test("D01: at most 6 runtime dependencies", () => {
  assert.ok(Object.keys(manifest.dependencies ?? {}).length <= 6);
});

test("files ships dist, examples and the viewer, not tests", () => {
  const files = manifest.files ?? [];
  for (const f of ["dist/nodes", "dist/lib", "examples", "viewer"]) assert.ok(files.includes(f), f);
  assert.ok(!files.some((f) => f === "dist" || f.startsWith("test") || f.startsWith("dist/test")));
});
