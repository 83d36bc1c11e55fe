/* Shared by every page: words, the JSON API, and a Socket.IO room that resyncs on reconnect. */
(function () {
  "use strict";
  const T = window.HALL_T || {};

  function t(key, values) {
    let text = T[key] || key;
    for (const [k, v] of Object.entries(values || {})) text = text.replace("{" + k + "}", v);
    return text;
  }

  /* Calls /api/v1; a failed call throws an Error carrying the API's own message and code,
     and the whole body (a refused intake lists the missing materials there). */
  async function api(method, path, body) {
    const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch("/api/v1" + path, options);
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

  /* The API's message, or on Chinese pages its translation by error code when we have one. */
  function errorText(error) {
    return (error.code && T["err_" + error.code]) || error.message;
  }

  function showError(error) {
    const box = document.getElementById("error");
    if (!box) return;
    box.textContent = error ? errorText(error) : "";
    box.title = error ? error.message : "";
    box.hidden = !error;
  }

  /* An estimate in whole minutes; null means no window serving it is open, so no honest figure. */
  function minutes(value) {
    if (value === null || value === undefined) return t("no_window_open");
    return (value > 0 && value < 1 ? "< 1" : Math.round(value)) + " " + t("minutes");
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

  window.Hall = { t, api, joinRoom, showError, minutes, name, throttle, el };
})();
