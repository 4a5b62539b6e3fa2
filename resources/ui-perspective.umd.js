// ui-perspective: the browser side of the Dashboard 2.0 widget. Hand-written plain JavaScript with no build
// step: Dashboard 2.0 only needs a script at /resources/<package>/ui-perspective.umd.js that, once imported,
// puts the component at window["ui-perspective"].UIPerspective, and it exposes its Vue as window.Vue, so a
// render function does what a compiled single-file component would (nothing here needs a template compiler
// or scoped CSS).
//
// Everything Perspective comes from the Perspective host's page on this Node-RED (props.pagePath, e.g.
// /perspective/; for a host on a port of its own, that path on props.pagePort, read by CORS): its copies of the viewer, the plugins and the client, and replica.js, the page's own
// replication code. A table is replicated exactly like the page does it (a flat view's snapshot, then its
// row deltas, into a table in this page's Perspective worker); the viewer computes on that local table. The
// widgets of one dashboard page share one WebSocket per host and one replica per table.
/* global getComputedStyle */
(function (root) {
  "use strict";
  const Vue = root.Vue;
  const CONFIG_EVERY_MS = 3000;
  const CONNECT_TIMEOUT_MS = 5000;
  /**
   * A table whose replica falls behind (a busy page or machine) is replicated afresh once its oldest unapplied
   * delta is this old or this many wait, as the Perspective page does: otherwise it fell further behind for as
   * long as the stream lasted and held every waiting delta.
   */
  const BEHIND_MS = 5000;
  const BEHIND_DELTAS = 1000;
  /** How long the widgets say that their table fell behind and was reloaded. */
  const BEHIND_SHOWN_MS = 30000;

  /** Perspective's files, loaded once per dashboard page (a custom element can be defined only once). */
  let assets;
  function loadAssets(base) {
    if (!assets) {
      assets = (async () => {
        const css = document.createElement("link");
        css.rel = "stylesheet";
        css.href = base + "assets/@finos/perspective-viewer/dist/css/themes.css";
        document.head.appendChild(css);
        // Load order matters: the viewer defines the element and its WASM, which the client then reuses.
        await import(base + "assets/@finos/perspective-viewer/dist/cdn/perspective-viewer.js");
        await import(base + "assets/@finos/perspective-viewer-datagrid/dist/cdn/perspective-viewer-datagrid.js");
        await import(base + "assets/@finos/perspective-viewer-d3fc/dist/cdn/perspective-viewer-d3fc.js");
        const perspective = (await import(base + "assets/@finos/perspective/dist/cdn/perspective.js")).default;
        const replica = await import(base + "replica.js");
        await customElements.whenDefined("perspective-viewer");
        const { Client } = await customElements.get("perspective-viewer").__wasm_module__;
        return { perspective, replica, Client, worker: perspective.worker() };
      })();
      assets.catch(() => (assets = undefined));
    }
    return assets;
  }

  /**
   * Where the host's page is: its path on this dashboard's server, or, for a host on a port of its own, that
   * port on the host name this dashboard was opened with (the server tells the port, the browser knows the name).
   */
  function pageBase(path, port) {
    if (!path || !port) return path;
    const u = new URL(path, location.href);
    u.port = String(port);
    return u.href;
  }

  function wsUrlOf(base) {
    const u = new URL(base + "ws", location.href);
    u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    return u.href;
  }

  /**
   * One Perspective host as this dashboard page sees it: a WebSocket (reconnected with backoff), the host's
   * table list (config.json, re-read on every hosted-table change and every few seconds) and one replica per
   * table some widget shows.
   */
  class Feed {
    constructor(base) {
      this.base = base;
      this.refs = 0;
      /** name -> { subscribers: Set, replica, entity, generation, rows, state, text } */
      this.tables = new Map();
      this.client = undefined;
      this.conn = undefined;
      this.retryMs = 500;
      this.connecting = false;
      this.closed = false;
      this.refreshing = Promise.resolve();
      this.timer = setInterval(() => void this.refresh(), CONFIG_EVERY_MS);
      void this.connect();
    }

    subscribe(name, sub) {
      let t = this.tables.get(name);
      if (!t) this.tables.set(name, (t = { subscribers: new Set(), replica: undefined, entity: undefined, generation: undefined, rows: undefined, state: "connecting", text: "connecting" }));
      t.subscribers.add(sub);
      sub.onState(t.state, t.text);
      if (t.replica) void sub.onTable(t.replica.table);
      if (t.rows !== undefined) sub.onRows(t.rows);
      void this.refresh();
      return () => {
        t.subscribers.delete(sub);
        if (t.subscribers.size === 0 && this.tables.get(name) === t) {
          this.tables.delete(name);
          void this.drop(t);
        }
      };
    }

    setState(t, state, text) {
      t.state = state;
      t.text = text;
      for (const s of t.subscribers) s.onState(state, text);
    }

    async drop(t) {
      clearTimeout(t.noteTimer);
      const old = t.replica;
      t.replica = undefined;
      if (!old) return;
      if (old.client === this.client) await Promise.race([old.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      await old.table.delete().catch(() => undefined);
    }

    scheduleReconnect() {
      if (this.closed || this.connecting) return;
      for (const t of this.tables.values()) this.setState(t, "reconnecting", "reconnecting");
      const wait = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, 5000);
      setTimeout(() => void this.connect(), wait);
    }

    async connect() {
      if (this.connecting || this.closed) return;
      this.connecting = true;
      try {
        const { replica, Client } = await loadAssets(this.base);
        // A new session: the server views of the old one are gone, so every table is replicated again.
        for (const t of this.tables.values()) {
          t.entity = undefined;
          t.generation = undefined;
        }
        const tap = new replica.WireTap();
        let conn;
        let lost = false;
        const onClose = () => {
          lost = true;
          if (this.conn === conn) {
            this.client = this.conn = undefined;
            this.connecting = false;
            this.scheduleReconnect();
          }
        };
        const attempt = replica.openClient(wsUrlOf(this.base), { WebSocket, makeClient: (send, close) => new Client(send, close), tap, onClose });
        conn = await Promise.race([
          attempt,
          new Promise((_, reject) => setTimeout(() => reject(new Error("connect timeout")), CONNECT_TIMEOUT_MS)),
        ]).catch((err) => {
          attempt.then((late) => late.close(), () => undefined);
          throw err;
        });
        if (lost) throw new Error("closed while connecting");
        if (this.closed) return conn.close();
        conn.tap = tap;
        this.conn = conn;
        this.client = conn.client;
        await this.client.on_hosted_tables_update(() => void this.refresh());
        this.retryMs = 500;
        this.connecting = false;
        await this.refresh();
      } catch {
        this.connecting = false;
        this.client = this.conn = undefined;
        this.scheduleReconnect();
      }
    }

    refresh() {
      this.refreshing = this.refreshing.then(() => this.refreshNow()).catch(() => undefined);
      return this.refreshing;
    }

    async refreshNow() {
      if (this.closed || !this.client || this.tables.size === 0) return;
      let cfg;
      try {
        const res = await fetch(this.base + "config.json", { cache: "no-store" });
        if (!res.ok) throw new Error(`${this.base}config.json: HTTP ${res.status}`);
        cfg = await res.json();
      } catch (err) {
        for (const t of this.tables.values()) this.setState(t, "error", String(err.message || err));
        return;
      }
      const list = Array.isArray(cfg.tables) ? cfg.tables : [];
      for (const [name, t] of this.tables) {
        const desc = list.find((d) => d && d.name === name);
        if (!desc) {
          this.setState(t, "waiting", `no table "${name}" on this Perspective host yet`);
          continue;
        }
        if (desc.entity === t.entity && desc.generation === t.generation && t.replica) continue;
        try {
          await this.replicate(name, t, desc);
        } catch (err) {
          this.setState(t, "error", String(err.message || err));
        }
      }
    }

    async replicate(name, t, desc) {
      const { replica, worker } = await loadAssets(this.base);
      const client = this.client;
      const conn = this.conn;
      const remote = await client.open_table(desc.entity);
      const w = await worker;
      const opts = {
        tap: conn.tap,
        onDelta: (_delta, local) => this.countRows(t, local),
        maxBacklogMs: BEHIND_MS,
        maxBacklogDeltas: BEHIND_DELTAS,
        onBehind: (backlog, local) => this.fellBehind(name, t, local, backlog),
      };
      if (desc.index) opts.index = desc.index;
      else if (desc.limit) opts.limit = desc.limit;
      const r = await replica.replicate(remote, (data, options) => w.table(data, options), opts);
      r.client = client;
      if (this.tables.get(name) !== t || this.client !== client) {
        // Given up meanwhile (no widget shows it any more, or the connection was replaced).
        await r.close().catch(() => undefined);
        await r.table.delete().catch(() => undefined);
        return;
      }
      const old = t.replica;
      t.replica = r;
      t.entity = desc.entity;
      t.generation = desc.generation;
      this.setState(t, "live", this.behindNote(t));
      // The widgets move to the new local table before the old one is deleted.
      await Promise.all([...t.subscribers].map((s) => Promise.resolve(s.onTable(r.table)).catch(() => undefined)));
      await this.countRows(t, r.table);
      if (old) {
        if (old.client === this.client) await old.close().catch(() => undefined);
        await old.table.delete().catch(() => undefined);
      }
    }

    /**
     * The replica of `t` fell too far behind the server's table: replicate it afresh (queued like a refresh, so
     * only if `local` is still the one shown), and say so on the widgets while it loads and for a while after.
     */
    fellBehind(name, t, local, backlog) {
      this.refreshing = this.refreshing
        .then(async () => {
          if (this.tables.get(name) !== t || t.replica?.table !== local) return;
          t.behind = { at: Date.now(), seconds: Math.max(1, Math.round(backlog.ageMs / 1000)) };
          console.info(`ui-perspective: ${backlog.deltas} updates of ${name} waiting, the oldest ${backlog.ageMs} ms old: reloading it`);
          t.entity = undefined;
          this.setState(t, "reloading", `fell ${t.behind.seconds} s behind, reloading`);
          await this.refreshNow();
        })
        .catch(() => undefined);
    }

    /** What a live table's widgets say after it was reloaded for falling behind; cleared when that gets old. */
    behindNote(t) {
      const left = t.behind ? t.behind.at + BEHIND_SHOWN_MS - Date.now() : 0;
      if (left <= 0) return "";
      const note = `fell ${t.behind.seconds} s behind, reloaded`;
      clearTimeout(t.noteTimer);
      t.noteTimer = setTimeout(() => {
        if (t.state === "live" && t.text === note) this.setState(t, "live", "");
      }, left);
      return note;
    }

    /**
     * Row count of the local table, read at most once at a time (deltas can come faster). A delta or a new table
     * that comes while a count is being read asks for one more read after it: the count shown is never older than
     * the last delta, and never another table's.
     */
    async countRows(t, local) {
      if (t.replica?.table !== local) return;
      if (t.counting) {
        t.countAgain = true;
        return;
      }
      t.counting = true;
      try {
        const rows = await local.size();
        if (t.replica?.table === local) {
          t.rows = rows;
          for (const s of t.subscribers) s.onRows(rows);
        }
      } catch {
        // The table was replaced meanwhile.
      } finally {
        t.counting = false;
      }
      if (t.countAgain) {
        t.countAgain = false;
        if (t.replica) await this.countRows(t, t.replica.table);
      }
    }

    close() {
      this.closed = true;
      clearInterval(this.timer);
      for (const t of this.tables.values()) void this.drop(t);
      this.tables.clear();
      if (this.conn) this.conn.close();
      this.client = this.conn = undefined;
    }
  }

  const feeds = new Map();
  function acquireFeed(base) {
    let f = feeds.get(base);
    if (!f) feeds.set(base, (f = new Feed(base)));
    f.refs++;
    return {
      feed: f,
      release() {
        if (--f.refs === 0 && feeds.get(base) === f) {
          feeds.delete(base);
          f.close();
        }
      },
    };
  }

  const isLayout = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

  /** Light or dark after the background the dashboard's theme gives the widget. */
  function dashboardIsDark(el) {
    const rgb = getComputedStyle(el).getPropertyValue("--v-theme-surface").split(",").map(Number);
    if (rgb.length !== 3 || rgb.some((x) => !Number.isFinite(x))) return undefined;
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] < 128;
  }

  const UIPerspective = {
    name: "UIPerspective",
    inject: ["$socket"],
    props: ["id", "props", "state"],
    data() {
      // Not reactive on purpose (set in created): the viewer element and the feed are not Vue state.
      return { status: "connecting", text: "connecting", rows: undefined, messageLayout: undefined, dark: undefined };
    },
    computed: {
      layout() {
        if (this.messageLayout !== undefined) return this.messageLayout || this.props?.layout || {};
        const set = this.state?.runtimeLayout ?? this.props?.runtimeLayout;
        if (isLayout(set)) return set;
        return isLayout(this.props?.layout) ? this.props.layout : {};
      },
      source() {
        return JSON.stringify([this.props?.pagePath, this.props?.pagePort, this.props?.table]);
      },
    },
    watch: {
      layout: { handler() { this.applyLayout(); }, deep: true },
      source() { this.resubscribe(); },
      "props.layout"() { this.messageLayout = undefined; },
    },
    created() {
      this.viewer = undefined;
      this.table = undefined;
      this.ops = Promise.resolve();
      this.unsubscribe = undefined;
      this.lease = undefined;
      this.onMessage = (msg) => {
        const upd = msg && msg.ui_update;
        if (isLayout(upd) && "layout" in upd) this.messageLayout = isLayout(upd.layout) ? upd.layout : null;
        else if (isLayout(msg && msg.payload)) this.messageLayout = msg.payload;
      };
    },
    mounted() {
      this.$socket.on("msg-input:" + this.id, this.onMessage);
      this.themeTimer = setInterval(() => this.checkTheme(), 2000);
      this.resubscribe();
    },
    unmounted() {
      this.gone = true;
      clearInterval(this.themeTimer);
      this.$socket.off("msg-input:" + this.id, this.onMessage);
      this.stopFeed();
      this.step(async () => {
        const v = this.viewer;
        this.viewer = undefined;
        if (!v) return;
        if (this.table) await v.flush().catch(() => undefined);
        await v.delete().catch(() => undefined);
      });
    },
    methods: {
      /** Viewer steps run one at a time: an eject or a load during a pending render throws in the viewer. */
      step(fn) {
        const run = this.ops.then(fn);
        this.ops = run.catch((err) => {
          this.status = "error";
          this.text = String(err && err.message ? err.message : err);
        });
        return run;
      },
      stopFeed() {
        if (this.unsubscribe) this.unsubscribe();
        if (this.lease) this.lease.release();
        this.unsubscribe = this.lease = undefined;
      },
      resubscribe() {
        this.stopFeed();
        const base = pageBase(this.props?.pagePath, this.props?.pagePort);
        const name = this.props?.table;
        if (!base || !name) {
          this.status = "error";
          this.text = "no Perspective table configured";
          return;
        }
        this.lease = acquireFeed(base);
        this.unsubscribe = this.lease.feed.subscribe(name, {
          onState: (state, text) => {
            // "live" once the viewer shows the table, not merely once the feed has it.
            this.feedState = state;
            this.feedText = text;
            this.status = state === "live" && !this.table ? "loading" : state;
            this.text = state === "live" && !this.table ? "loading" : text;
          },
          onRows: (n) => (this.rows = n),
          onTable: (table) => this.show(table),
        });
      },
      effectiveLayout() {
        // A plain copy: Vue hands out reactive proxies, which the viewer's WASM cannot read.
        const l = JSON.parse(JSON.stringify(this.layout));
        if (this.props?.followTheme !== false) {
          const dark = dashboardIsDark(this.$el);
          this.dark = dark;
          if (dark !== undefined) l.theme = dark ? "Pro Dark" : "Pro Light";
        }
        return l;
      },
      show(table) {
        return this.step(async () => {
          if (this.gone) return;
          // Made once Perspective is loaded: an element upgraded after it was attached crashes the viewer.
          if (!this.viewer) {
            this.viewer = document.createElement("perspective-viewer");
            this.viewer.style.position = "absolute";
            this.viewer.style.inset = "0";
            this.$refs.host.appendChild(this.viewer);
          }
          const v = this.viewer;
          await v.load(table);
          this.table = table;
          await v.restore(this.effectiveLayout());
          if (this.feedState === "live") {
            this.status = "live";
            this.text = this.feedText || "";
          }
        });
      },
      applyLayout() {
        return this.step(async () => {
          if (this.viewer && this.table) await this.viewer.restore(this.effectiveLayout());
        });
      },
      checkTheme() {
        if (this.props?.followTheme === false || !this.$el) return;
        const dark = dashboardIsDark(this.$el);
        if (dark !== undefined && dark !== this.dark) void this.applyLayout();
      },
    },
    render() {
      const h = Vue.h;
      const rows = Number(this.props?.height) > 0 ? Number(this.props.height) : 8;
      const live = this.status === "live";
      return h(
        "div",
        {
          class: ["ui-perspective", this.props?.className || ""],
          style: { position: "relative", width: "100%", height: `calc(var(--widget-row-height, 48px) * ${rows})` },
          "data-state": this.status,
          "data-rows": this.rows === undefined ? "" : String(this.rows),
          "data-table": this.props?.table || "",
        },
        [
          h("div", { ref: "host", style: { position: "absolute", inset: "0" } }),
          // A live widget shows a line only to say something (that its table was reloaded after falling behind).
          live && !this.text
            ? null
            : h(
                "div",
                {
                  class: "ui-perspective-status",
                  role: "status",
                  style: { position: "absolute", left: "8px", bottom: "8px", padding: "2px 8px", borderRadius: "4px", fontSize: "12px", background: "rgba(0,0,0,0.6)", color: "#fff", zIndex: 1 },
                },
                this.text,
              ),
        ],
      );
    },
  };

  root["ui-perspective"] = { UIPerspective };
})(globalThis);
