// Copies each node's hand-written editor HTML, locales/ and icons/ next to its compiled .js,
// where Node-RED's registry looks for them (dist/nodes/<type>/).
import { cpSync, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const src = "nodes";
const out = join("dist", "nodes");
for (const dir of readdirSync(src)) {
  const from = join(src, dir);
  if (!statSync(from).isDirectory()) continue;
  for (const entry of readdirSync(from)) {
    const path = join(from, entry);
    const isAsset = entry.endsWith(".html") || entry === "locales" || entry === "icons";
    if (isAsset && existsSync(path)) cpSync(path, join(out, dir, entry), { recursive: true });
  }
}
