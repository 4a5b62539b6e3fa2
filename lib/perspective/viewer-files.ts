// The viewer page and the exact files it loads, served from this package's viewer/ folder and the installed
// @finos/perspective* packages (no CDN). Only the files listed here are served: a request path is looked up
// in a fixed table, never joined onto a directory, so there is nothing to traverse.
import { createReadStream, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, join, resolve } from "node:path";

/** Files of the installed Perspective packages the page needs, by their path inside node_modules. */
export const PERSPECTIVE_ASSETS = [
  "@finos/perspective-viewer/dist/css/themes.css",
  "@finos/perspective-viewer/dist/cdn/perspective-viewer.js",
  "@finos/perspective-viewer/dist/wasm/perspective-viewer.wasm",
  "@finos/perspective-viewer-datagrid/dist/cdn/perspective-viewer-datagrid.js",
  "@finos/perspective-viewer-d3fc/dist/cdn/perspective-viewer-d3fc.js",
  "@finos/perspective/dist/cdn/perspective.js",
  // cdn/perspective.js fetches the engine's WASM when it loads, even though the page only uses a WebSocket.
  "@finos/perspective/dist/wasm/perspective-server.wasm",
] as const;

/** The page's own files, in viewer/ at the package root. */
export const PAGE_FILES = ["index.html", "viewer.js", "viewer.css", "replica.js", "freshness.js", "health.js"] as const;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json; charset=utf-8",
};

export interface ServedFile {
  file: string;
  type: string;
  /** Long-lived cache for the versioned package files; the page itself is revalidated. */
  cache: string;
}

const viewerDir = resolve(__dirname, "..", "..", "..", "viewer");

function typeOf(path: string): string {
  const m = /\.[a-z]+$/.exec(path);
  return (m && TYPES[m[0]]) || "application/octet-stream";
}

function resolveAsset(asset: string): string {
  const [scope, name, ...rest] = asset.split("/");
  const pkgJson = require.resolve(`${scope}/${name}/package.json`, { paths: [__dirname] });
  return join(dirname(pkgJson), ...rest);
}

let table: Map<string, ServedFile> | undefined;

/** URL path (relative to the page's base, e.g. "assets/@finos/...") -> file. Built once. */
export function servedFiles(): Map<string, ServedFile> {
  if (table) return table;
  const t = new Map<string, ServedFile>();
  for (const f of PAGE_FILES) t.set(f, { file: join(viewerDir, f), type: typeOf(f), cache: "no-cache" });
  t.set("", t.get("index.html")!);
  for (const a of PERSPECTIVE_ASSETS) {
    t.set(`assets/${a}`, { file: resolveAsset(a), type: typeOf(a), cache: "public, max-age=86400" });
  }
  table = t;
  return t;
}

/**
 * Answers a GET/HEAD for `subpath` (the part of the URL path after the page's base, without the leading
 * slash). `describe` gives the JSON for "config.json". Returns false when the path is not one of ours.
 */
export function serveViewer(req: IncomingMessage, res: ServerResponse, subpath: string, describe: () => unknown): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  if (subpath === "config.json") {
    const body = JSON.stringify(describe());
    res.writeHead(200, { "Content-Type": TYPES[".json"], "Cache-Control": "no-store", "Content-Length": Buffer.byteLength(body) });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  }
  const f = servedFiles().get(subpath);
  if (!f) return false;
  let size: number;
  try {
    size = statSync(f.file).size;
  } catch {
    res.writeHead(500, { "Content-Type": "text/plain" });
    res.end("viewer file missing from the installation");
    return true;
  }
  res.writeHead(200, {
    "Content-Type": f.type,
    "Content-Length": size,
    "Cache-Control": f.cache,
    "X-Content-Type-Options": "nosniff",
  });
  if (req.method === "HEAD") res.end();
  else createReadStream(f.file).on("error", () => res.destroy()).pipe(res);
  return true;
}
