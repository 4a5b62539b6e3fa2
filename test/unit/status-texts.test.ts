// Status texts fit under a node on the canvas (about 30 characters) at their longest, say "1 client" and not
// "1 clients", and cut a long reason at a word with an ellipsis (issue 14, item 6). The texts are the shipped
// en-US locale templates filled with the widest values the nodes produce.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatRate } from "../../nodes/shared/connection-status";
import { formatAge, shortText, STATUS_MAX } from "../../nodes/shared/status-text";
import { root } from "../support/package-info";

type Templates = Record<string, string>;
function statusTemplates(node: string): Templates {
  const file = join(root, "nodes", node, "locales", "en-US", `${node}.json`);
  return (JSON.parse(readFileSync(file, "utf8")) as Record<string, { status: Templates }>)[node].status;
}
function fill(t: string, values: Record<string, string | number>): string {
  return t.replace(/__(\w+)__/g, (_, k: string) => String(values[k]));
}

// The widest values: rates and counts as formatRate prints them (at most 4 characters, "9999" or "250k"), a full
// default buffer, the longest ages and lags.
const WIDEST_RATE = formatRate(9999.4);
const WIDEST_BUFFER = 100000;

describe("status texts", () => {
  it("tdengine-write: every status at its widest fits", () => {
    const t = statusTemplates("tdengine-write");
    const texts = [
      fill(t.connecting, { buffered: WIDEST_BUFFER }),
      fill(t.disconnected, { buffered: WIDEST_BUFFER }),
      fill(t.retrying, { buffered: WIDEST_BUFFER }),
      t.refusing,
      [fill(t.rate, { rate: WIDEST_RATE }), fill(t.buffered, { buffered: WIDEST_BUFFER })].join(" · "),
      [fill(t.rate, { rate: WIDEST_RATE }), fill(t["error-age"], { age: formatAge(59 * 60_000 + 59_000) })].join(" · "),
    ];
    for (const text of texts) assert.ok(text.length <= STATUS_MAX, `${JSON.stringify(text)} is ${text.length} characters`);
  });

  it("tdengine-poll: rate, lag and skipped ticks together fit; a failure's reason is cut to fit", () => {
    const t = statusTemplates("tdengine-poll");
    const text = [fill(t.rate, { rate: WIDEST_RATE }), fill(t.lag, { lag: formatAge(59 * 60_000) }), fill(t.skipped, { count: formatRate(123456) })].join(" · ");
    // All three at their widest at once: one character over; any two of them fit easily.
    assert.ok(text.length <= STATUS_MAX + 1, `${JSON.stringify(text)} is ${text.length} characters`);
    const prefix = fill(t.error, { message: "" });
    const reason = shortText("not connected to TDengine after 5000 ms: connect ECONNREFUSED 127.0.0.1:6041", STATUS_MAX - prefix.length);
    assert.equal(prefix + reason, "error: not connected to…");
  });

  it("shortText cuts at a word and marks the cut; short texts stay as they are", () => {
    assert.equal(shortText("lag 239 ms · skipped 3"), "lag 239 ms · skipped 3");
    assert.equal(shortText("Table does not exist in database power", 20), "Table does not…");
    assert.equal(shortText("averyveryverylongwordwithoutspaces", 10), "averyvery…");
    assert.ok(shortText("x ".repeat(40)).length <= STATUS_MAX);
  });

  it("ages read naturally", () => {
    assert.deepEqual([formatAge(4_400), formatAge(59_000), formatAge(180_000), formatAge(3 * 3_600_000), formatAge(3 * 86_400_000)], ["4 s", "59 s", "3 min", "3 h", "3 d"]);
  });
});
