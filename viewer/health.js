// What the page says about a table's health: from config.json's optional `health` (filled by the server:
// source connection states, last errors, row ages) and from the page's own replicated table (age of the
// newest row). Pure functions from data to text, so the page and its tests agree on the wording.

const SOURCE_WORDS = { connected: "connected", connecting: "connecting", disconnected: "disconnected", error: "failing", unknown: "state unknown" };

/** "850 ms", "12 s", "3 min", "2 h". */
export function formatAge(ms) {
  if (!Number.isFinite(ms)) return "";
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
  if (ms < 3600000) return `${Math.round(ms / 60000)} min`;
  return `${Math.round(ms / 3600000)} h`;
}

function sourceText(s) {
  const name = s.name || s.id || s.type || "source";
  let t = `${name}: ${SOURCE_WORDS[s.state] || s.state}`;
  if (s.lastError && s.lastError.message) t += ` (${s.lastError.message}${Number.isFinite(s.lastError.ageMs) ? `, ${formatAge(s.lastError.ageMs)} ago` : ""})`;
  return t;
}

/** The sources that are not delivering. */
function downSources(health) {
  return (health && Array.isArray(health.sources) ? health.sources : []).filter((s) => s && s.state !== "connected");
}

/**
 * The health line for one table.
 * @param {object|undefined} health config.json's `health` of the table (may be missing)
 * @param {{rows?: number, newestAgeMs?: number}} local what the page's own table shows
 * @returns {{state: "ok"|"warn"|"error"|"unknown", text: string, down: boolean}}
 */
export function describeHealth(health, local) {
  const parts = [];
  const state = health && ["ok", "warn", "error", "unknown"].includes(health.state) ? health.state : "unknown";
  if (health && health.summary) parts.push(health.summary);
  const down = downSources(health);
  for (const s of down) parts.push(sourceText(s));
  if (health && Array.isArray(health.sources) && health.sources.length > 0 && down.length === 0 && !health.summary) {
    parts.push(health.sources.length === 1 ? "source connected" : `${health.sources.length} sources connected`);
  }
  if (Number.isFinite(local.newestAgeMs)) parts.push(`newest row ${formatAge(local.newestAgeMs)} old`);
  else if (health && Number.isFinite(health.newestRowAgeMs)) parts.push(`newest row ${formatAge(health.newestRowAgeMs)} old`);
  if (health && Number.isFinite(health.lastRowsAgeMs)) parts.push(`last rows ${formatAge(health.lastRowsAgeMs)} ago`);
  return { state, text: parts.join(" · "), down: state === "error" || down.some((s) => s.state === "error" || s.state === "disconnected") };
}

/**
 * The message shown in place of the viewers when a table has nothing to show, or undefined when it does.
 * @param {string} name table name
 * @param {object|undefined} health
 * @param {number|undefined} rows rows in the page's table (undefined while it loads)
 */
export function emptyMessage(name, health, rows) {
  if (rows !== 0) return undefined;
  const down = downSources(health);
  const lines = [`${name} has no rows yet.`];
  if (down.length) {
    lines.push(`Its source is not delivering: ${down.map(sourceText).join("; ")}.`);
    lines.push("Rows appear here as soon as the source is back.");
  } else if (health && health.summary) {
    lines.push(health.summary);
  } else {
    lines.push("Waiting for the flow to send rows to its perspective out node.");
  }
  return lines;
}
