/* Shared by every page: words, the JSON API, and a Socket.IO room that resyncs on reconnect. */
(function () {
  "use strict";
  /* Data the server put in the page as JSON (<script type="application/json" id=…>): the
     Content-Security-Policy allows no inline script. */
  function data(id) {
    const block = document.getElementById(id || "page-data");
    return block ? JSON.parse(block.textContent) : {};
  }
  const PAGE = data("hall-page");
  window.HALL_LANG = PAGE.lang || "zh";
  window.HALL_TZ = PAGE.tz;
  /* The path the hall is served under: "" for a hall of its own, "/h/<code>" for a hall of a
     deployment. Every URL a script makes starts with it (url()), the API's and Socket.IO's too. */
  const BASE = PAGE.base || "";
  function url(path) {
    return BASE + path;
  }

  /* The page's words, translated by the server from the one gettext catalogue
     (hall_web/translations): msgid -> text, "context\u0004msgid" -> text, and a plural
     msgid -> [form for 1, form for other numbers]. A msgid missing here reads as itself. */
  const T = PAGE.words || {};

  /* Python's %-format, as the catalogue writes it: %(name)s / %(name)d, and %% for %. */
  function format(text, values) {
    return text.replace(/%(?:\((\w+)\)[sd]|%)/g, (all, key) => (key === undefined ? "%" : String(values[key])));
  }
  function t(msgid, values) {
    return format(T[msgid] ?? msgid, values || {});
  }
  function pt(context, msgid, values) {
    return format(T[context + "\u0004" + msgid] ?? msgid, values || {});
  }
  /* English and Chinese plurals only need these two forms (Chinese has one, the same in both). */
  function nt(singular, plural, n, values) {
    const forms = T[singular] || [singular, plural];
    return format(forms[n === 1 ? 0 : 1], { num: n, ...values });
  }

  /* Words for the states the API reports (window, ticket), shared by several pages. */
  function windowState(state) {
    const names = { closed: pt("window state", "closed"), idle: t("idle"), calling: t("calling"),
      serving: t("serving"), paused: t("paused") };
    return names[state] || state;
  }
  function ticketStatus(status) {
    const names = { remote: t("not checked in yet"), waiting: pt("ticket status", "waiting"), called: t("called"),
      serving: t("being served"), done: t("done"), no_show: t("missed"), cancelled: t("cancelled") };
    return names[status] || status;
  }

  /* The CSRF token of this browser's session, sent with every change (X-CSRFToken). A login
     or logout starts a new session: its answer carries the new token, kept here. */
  const csrf = document.querySelector('meta[name="csrf-token"]');

  /* Calls /api/v1; a failed call throws an Error carrying the API's message (in the page's
     language), its code, and the whole body (a refused intake lists the missing materials).
     When the server cannot be reached (the browser's bare "Failed to fetch") the Error says so
     in the page's language, with code "offline"; a read is tried again twice first. */
  async function api(method, path, body) {
    /* Accept-Language: the API answers errors in the page's language, not the browser's. */
    const headers = { Accept: "application/json", "Accept-Language": window.HALL_LANG };
    if (method !== "GET" && csrf) headers["X-CSRFToken"] = csrf.content;
    const options = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response = null;
    for (let attempt = 0; response === null; attempt++) {
      try {
        response = await fetch(url("/api/v1" + path), options);
      } catch (failure) {
        if (method !== "GET" || attempt >= 2) {
          const error = new Error(method === "GET"
            ? t("Cannot reach the hall's server. Check the network; the page keeps trying.")
            : t("Cannot reach the hall's server. Check the network, then try again."));
          Object.assign(error, { code: "offline", status: 0, body: {} });
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
      }
    }
    const fresh = response.headers.get("X-CSRFToken");
    if (fresh && csrf) csrf.content = fresh;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      /* No JSON answer: a proxy in front answered (502, 504) while the hall restarts. */
      const message = data && data.message ? data.message
        : t("The hall's server is not answering (%(status)s); please try again shortly.", { status: response.status });
      const error = new Error(message);
      Object.assign(error, { code: data ? data.error : "unavailable", status: response.status, body: data || {} });
      throw error;
    }
    return data || {};
  }

  /* Join a room on every (re)connect: the server answers with a fresh snapshot,
     so whatever happened while we were away is simply redrawn. */
  function joinRoom(room, handlers) {
    const socket = io({ path: url("/socket.io"), transports: ["websocket", "polling"], reconnectionDelayMax: 5000 });
    const offline = () => document.getElementById("offline");
    socket.on("connect", () => {
      if (offline()) offline().hidden = true;
      socket.emit("join", { room });
    });
    const lost = () => { if (offline()) offline().hidden = false; };
    /* A page that closed its own connection (nothing more to follow) has not lost it. */
    socket.on("disconnect", (reason) => { if (reason !== "io client disconnect") lost(); });
    socket.on("connect_error", lost);
    for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
    return socket;
  }

  /* The page's error line; `retry` (a function) adds a "Try again" button, e.g. when the
     server could not be reached. */
  function showError(error, retry) {
    const box = document.getElementById("error");
    if (!box) return;
    box.textContent = error ? error.message : "";
    if (error && retry) {
      const again = el("button", { type: "button", className: "retry" }, t("Try again"));
      again.addEventListener("click", () => { showError(null); retry(); });
      box.append(" ", again);
    }
    box.hidden = !error;
  }

  /* A running time since `iso` as m:ss (h:mm:ss past an hour), for service timers. */
  function elapsed(iso, now) {
    const seconds = Math.max(0, Math.floor(((now || Date.now()) - Date.parse(iso)) / 1000));
    const h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
  }

  /* An estimate in whole minutes; null means no window serving it is open, so no honest figure. */
  function minutes(value) {
    if (value === null || value === undefined) return t("no window open yet");
    return t("%(n)s min", { n: value > 0 && value < 1 ? "< 1" : Math.round(value) });
  }

  function name(item) {
    return window.HALL_LANG === "en" ? item.name_en : item.name_zh;
  }

  /* Run fn at most once per `ms`, always ending with a run after the last request. */
  function throttle(fn, ms) {
    let last = 0, timer = null;
    return function () {
      const wait = last + ms - Date.now();
      if (wait <= 0) { last = Date.now(); fn(); return; }
      if (!timer) timer = setTimeout(() => { timer = null; last = Date.now(); fn(); }, wait);
    };
  }

  /* Build an element: el("td", {className: "count"}, "3"). Text only, never HTML. */
  function el(tag, props, ...children) {
    const node = Object.assign(document.createElement(tag), props || {});
    for (const child of children) node.append(child);
    return node;
  }

  /* A report's chart (vendored Chart.js): counts as bars on the left axis, rates or times as
     lines on the right axis (``y1``, given by the page); drawn once per canvas, then updated
     in place. ``series``: [type ("bar" | "line"), label, colour, values]. */
  function reportChart(canvas, labels, series, y1) {
    if (!window.Chart) return;
    const datasets = series.map(([type, label, color, data]) => (type === "bar"
      ? { type, label, data, backgroundColor: color, yAxisID: "y", maxBarThickness: 48 }
      : { type, label, data, borderColor: color, backgroundColor: color, yAxisID: "y1", spanGaps: true, tension: 0.2 }));
    const chart = window.Chart.getChart(canvas);
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets = datasets;
      chart.update("none");
      return;
    }
    new window.Chart(canvas, {
      data: { labels, datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, position: "left", ticks: { precision: 0 } }, y1 },
      },
    });
  }

  window.Hall = { base: BASE, url, data, t, pt, nt, windowState, ticketStatus, api, joinRoom, showError, minutes, name, throttle, el, elapsed,
    reportChart };
})();
