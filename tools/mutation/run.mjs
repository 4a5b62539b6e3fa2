#!/usr/bin/env node
// Mutation check: applies plausible bugs to critical behaviours one at a time and runs the tests that should
// catch each one. A mutation is "caught" when its tests fail (or hang past the time limit); a "survivor" means
// no test notices that behaviour breaking. Not part of CI (it takes several minutes).
//
// Usage (after `npm run build`):
//   node tools/mutation/run.mjs                 every mutation in tools/mutation/mutations.json
//   node tools/mutation/run.mjs write-closed    only the mutations whose id contains one of the arguments
//   node tools/mutation/run.mjs --list          list them
//   node tools/mutation/run.mjs --check         only check that every mutation still applies (no tests)
// Environment: NR_RUNTIME (default node-red-4), MUTATION_TIMEOUT_MS (per mutation, default 90000).
//
// How: the mutated source file is transpiled alone (TypeScript's transpileModule with the project's compiler
// options: byte for byte what tsc emits for it) over its compiled file in dist/, the listed test files run with
// Node's test runner, and the compiled file is put back from a copy, whatever happens (also on Ctrl-C). Each
// `find` must occur exactly once in its file, so a list that no longer matches the code fails loudly instead
// of testing nothing.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(join(root, "package.json"));
const ts = require("typescript");

const args = process.argv.slice(2);
const list = JSON.parse(readFileSync(join(root, "tools", "mutation", "mutations.json"), "utf8"));
const selected = args.filter((a) => !a.startsWith("--"));
const mutations = selected.length ? list.filter((m) => selected.some((s) => m.id.includes(s))) : list;
if (args.includes("--list")) {
  for (const m of mutations) console.log(`${m.id.padEnd(28)} ${m.area.padEnd(12)} ${m.why}`);
  process.exit(0);
}

const timeoutMs = Number(process.env.MUTATION_TIMEOUT_MS ?? 90000);
const runtime = process.env.NR_RUNTIME ?? "node-red-4";
const parsed = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } });
const compilerOptions = { ...parsed.options, sourceMap: false };

const distOf = (src) => join(root, "dist", src.replace(/\.ts$/, ".js"));

/** Compiled file -> original content, for restoring on exit. */
const saved = new Map();
function restoreAll() {
  for (const [file, content] of saved) writeFileSync(file, content);
  saved.clear();
}
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    restoreAll();
    process.exit(130);
  });
}
process.on("exit", restoreAll);

function apply(m) {
  const src = join(root, m.file);
  const text = readFileSync(src, "utf8");
  const count = text.split(m.find).length - 1;
  if (count !== 1) throw new Error(`${m.id}: "find" occurs ${count} times in ${m.file} (must be exactly once)`);
  const mutated = text.replace(m.find, () => m.replace);
  const out = ts.transpileModule(mutated, { compilerOptions, fileName: m.file, reportDiagnostics: true });
  // Syntax errors only (attached to the file); option diagnostics of a lone-file transpile do not matter.
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error && d.file);
  if (errors.length) throw new Error(`${m.id}: the mutated file does not transpile: ${ts.flattenDiagnosticMessageText(errors[0].messageText, " ")}`);
  const dist = distOf(m.file);
  if (!existsSync(dist)) throw new Error(`${m.id}: ${dist} is missing: run npm run build first`);
  const original = readFileSync(dist, "utf8");
  saved.set(dist, original);
  const map = original.match(/\n\/\/# sourceMappingURL=.*\n?$/)?.[0] ?? "";
  writeFileSync(dist, out.outputText.replace(/\n$/, "") + map);
}

function runTests(m) {
  const files = m.tests.map((t) => {
    const f = distOf(t);
    if (!existsSync(f)) throw new Error(`${m.id}: test ${t} is not built (${f})`);
    return f;
  });
  return new Promise((done) => {
    const started = Date.now();
    const pattern = m.pattern ? [`--test-name-pattern=${m.pattern}`] : [];
    const child = spawn(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=dot", ...pattern, ...files], {
      cwd: root,
      env: { ...process.env, NR_RUNTIME: runtime, ...(m.env ?? {}) },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, ms: Date.now() - started, output });
    });
  });
}

// Baseline: the tests of each mutation must pass on the unmutated code, or a "caught" would mean nothing.
const results = [];
const broken = new Set();
if (!args.includes("--check") && !args.includes("--no-baseline")) {
  const seen = new Set();
  for (const m of mutations) {
    const key = JSON.stringify([m.tests, m.pattern ?? "", m.env ?? {}]);
    if (seen.has(key)) continue;
    seen.add(key);
    const r = await runTests(m);
    if (r.code !== 0 || r.signal) {
      broken.add(key);
      console.log(`baseline FAILS: ${m.tests.join(" ")}${m.pattern ? ` /${m.pattern}/` : ""}\n${r.output.slice(-1500)}`);
    }
  }
}
for (const m of mutations) {
  if (broken.has(JSON.stringify([m.tests, m.pattern ?? "", m.env ?? {}]))) {
    results.push({ m, verdict: "ERROR" });
    console.log(`ERROR             ${m.id.padEnd(28)} its tests fail without the mutation`);
    continue;
  }
  let verdict;
  let detail = "";
  try {
    apply(m);
    if (args.includes("--check")) {
      results.push({ m, verdict: "applies" });
      console.log(`applies           ${m.id}`);
      continue;
    }
    const r = await runTests(m);
    verdict = r.signal ? "caught (timeout)" : r.code !== 0 ? "caught" : "SURVIVED";
    detail = `${(r.ms / 1000).toFixed(1)} s`;
  } catch (err) {
    verdict = "ERROR";
    detail = err.message;
  } finally {
    restoreAll();
  }
  results.push({ m, verdict });
  console.log(`${verdict.padEnd(17)} ${m.id.padEnd(28)} ${m.area.padEnd(12)} ${detail}`);
}

if (args.includes("--check")) process.exit(results.some((r) => r.verdict === "ERROR") ? 1 : 0);
const errors = results.filter((r) => r.verdict === "ERROR");
const caught = results.filter((r) => r.verdict.startsWith("caught")).length;
const total = results.length - errors.length;
console.log(`\nmutation check: ${caught}/${total} caught (${total ? ((100 * caught) / total).toFixed(1) : "0"} %), runtime ${runtime}, ${new Date().toISOString().slice(0, 10)}`);
for (const r of results.filter((x) => x.verdict === "SURVIVED")) console.log(`  survived: ${r.m.id}: ${r.m.why}`);
for (const r of errors) console.log(`  error: ${r.m.id}`);
process.exitCode = errors.length || caught < total ? 1 : 0;
