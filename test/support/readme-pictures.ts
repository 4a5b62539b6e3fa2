// Screenshots taken by e2e tests always land in test-results/; they replace the README's pictures in
// docs/images/ only when asked (UPDATE_README_PICTURES=1), so a plain test run leaves the work tree clean.
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "./node-red-process";

export function publishReadmePicture(screenshot: string, name: string): void {
  if (process.env.UPDATE_README_PICTURES !== "1") return;
  const images = join(packageRoot, "docs", "images");
  mkdirSync(images, { recursive: true });
  copyFileSync(screenshot, join(images, `${name}.png`));
}
