// Status texts are shown under the node on the canvas, where about 30 characters fit before they overlap the
// next node: these helpers keep them short (whole words, an ellipsis when cut) and say ages compactly.

export const STATUS_MAX = 30;

/** `text` cut at a word boundary to at most `max` characters, with "…" when something was cut. */
export function shortText(text: string, max = STATUS_MAX): string {
  const t = text.replace(/\s+/g, " ").trim();
  if (t.length <= max) return t;
  const room = t.slice(0, max - 1);
  const space = room.lastIndexOf(" ");
  return `${(space >= max / 2 ? room.slice(0, space) : room).replace(/[\s·:;,.-]+$/, "")}…`;
}

/** An age for a status line, at most 6 characters: "12 s", "59 min", "2 h", "4 d". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 60 * 60) return `${Math.floor(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

/** A lag for a status line, at most 6 characters: "239 ms", "12.5 s", then as an age ("59 min", "3 h"). */
export function formatLag(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return formatAge(ms);
}
