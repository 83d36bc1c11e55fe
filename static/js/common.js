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
    const names = { waiting: pt("ticket status", "waiting"), called: t("called"),
      serving: t("being served"), done: t("done"), no_show: t("missed"), cancelled: t("cancelled") };
    return names[status] || status;
  }

  /* The CSRF token of this browser's session, sent with every change (X-CSRFToken). A login
     or logout starts a new session: its answer carries the new token, kept here. */
  const csrf = document.querySelector('meta[name="csrf-token"]');

  /* Calls /api/v1; a failed call throws an Error carrying the API's message (in the page's
     language), its code, and the whole body (a refused intake lists the missing materials). */
  async function api(method, path, body) {
    /* Accept-Language: the API answers errors in the page's language, not the browser's. */
    const headers = { Accept: "application/json", "Accept-Language": window.HALL_LANG };
    if (method !== "GET" && csrf) headers["X-CSRFToken"] = csrf.content;
    const options = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch("/api/v1" + path, options);
    const fresh = response.headers.get("X-CSRFToken");
    if (fresh && csrf) csrf.content = fresh;
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.message || response.statusText);
      Object.assign(error, { code: data.error, status: response.status, body: data });
      throw error;
    }
    return data;
  }

  /* Join a room on every (re)connect: the server answers with a fresh snapshot,
     so whatever happened while we were away is simply redrawn. */
  function joinRoom(room, handlers) {
    const socket = io({ transports: ["websocket", "polling"], reconnectionDelayMax: 5000 });
    const offline = () => document.getElementById("offline");
    socket.on("connect", () => {
      if (offline()) offline().hidden = true;
      socket.emit("join", { room });
    });
    const lost = () => { if (offline()) offline().hidden = false; };
    socket.on("disconnect", lost);
    socket.on("connect_error", lost);
    for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
    return socket;
  }

  function showError(error) {
    const box = document.getElementById("error");
    if (!box) return;
    box.textContent = error ? error.message : "";
    box.hidden = !error;
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

  window.Hall = { data, t, pt, nt, windowState, ticketStatus, api, joinRoom, showError, minutes, name, throttle, el };
})();
