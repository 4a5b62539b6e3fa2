// The taosAdapter endpoints of one connection setting: a list of ws:// / wss:// URLs (one per line or
// comma-separated) or the official connector's DSN with a host list, ws://user@h1:6041,h2:6041/path?query.
// A password in the text is refused: it belongs in the credentials, never in a flow property.

/** More endpoints than any real cluster has taosAdapters; bounds what one text field can make us open. */
export const MAX_ENDPOINTS = 32;

export interface ParsedEndpoints {
  /** Full URLs, in the order given, without duplicates. */
  urls: string[];
  /** A user given in a DSN (ws://user@host...), when any. */
  user?: string;
}

/**
 * Parses the URL field. Tokens are separated by newlines and commas; a token without a scheme is another host of
 * the URL before it (DSN host list) and shares its scheme, user, path and query (the path and query written after
 * the last host of a DSN apply to all of its hosts, as in the official connector).
 */
export function parseEndpoints(text: string): ParsedEndpoints {
  const tokens = text.split(/[\n\r,]+/).map((t) => t.trim()).filter((t) => t.length > 0);
  if (tokens.length === 0) throw new Error("no taosAdapter address given (expected ws://host:6041)");
  // Groups: a URL with a scheme followed by bare hosts.
  const groups: { scheme: string; userinfo: string; hosts: string[]; rest: string }[] = [];
  for (const token of tokens) {
    const m = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?([^/?#]*)(.*)$/i.exec(token);
    if (m) {
      const scheme = m[1].toLowerCase();
      if (scheme !== "ws" && scheme !== "wss") throw new Error(`URL must start with ws:// or wss://, not ${scheme}://`);
      groups.push({ scheme, userinfo: m[2] ?? "", hosts: [], rest: "" });
      addHost(groups[groups.length - 1], m[3], m[4]);
    } else {
      if (groups.length === 0) throw new Error(`"${token.slice(0, 80)}" is not a URL (expected ws://host:6041 or wss://host)`);
      if (/@/.test(token)) throw new Error("a user or password may only follow the scheme (ws://user@h1,h2); put the password in the Password field");
      const h = /^([^/?#]*)(.*)$/.exec(token) as RegExpExecArray;
      addHost(groups[groups.length - 1], h[1], h[2]);
    }
  }
  let user: string | undefined;
  const urls: string[] = [];
  for (const g of groups) {
    if (g.userinfo) {
      const colon = g.userinfo.indexOf(":");
      if (colon >= 0) throw new Error("the URL carries a password: remove it from the URL and put it in the Password field (credentials are never stored in the flow)");
      const u = safeDecode(g.userinfo);
      if (user !== undefined && user !== u) throw new Error("the URLs name different users; give one user in the User field");
      user = u;
    }
    for (const host of g.hosts) {
      const url = `${g.scheme}://${host}${g.rest}`;
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new Error(`"${url.slice(0, 80)}" is not a URL (expected ws://host:6041 or wss://host)`);
      }
      if (!parsed.hostname) throw new Error(`"${url.slice(0, 80)}" has no host`);
      if (!urls.includes(url)) urls.push(url);
    }
  }
  if (urls.length > MAX_ENDPOINTS) throw new Error(`at most ${MAX_ENDPOINTS} taosAdapter addresses, got ${urls.length}`);
  return user === undefined ? { urls } : { urls, user };
}

function addHost(g: { hosts: string[]; rest: string }, host: string, rest: string): void {
  if (!host) throw new Error("a taosAdapter address has no host");
  g.hosts.push(host);
  // The path/query after a host applies to the whole group (DSN: written once after the last host).
  if (rest) g.rest = rest;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** FNV-1a of a string: a stable, well-spread start index for spreading nodes over endpoints. */
export function spreadIndex(key: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return count > 0 ? h % count : 0;
}
