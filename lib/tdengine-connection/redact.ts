// Keeps secrets out of anything shown to people (logs, status, error messages, admin replies).

/** Replaces every occurrence of each non-empty secret in text with "***". */
export function redactSecrets(text: string, secrets: Array<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 1) out = out.split(s).join("***");
  }
  return out;
}

/** The URL without user info or query (a cloud token travels in the query), for logs and labels. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
