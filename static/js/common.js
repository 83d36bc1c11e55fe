/* Shared by every page: words, the JSON API, and a Socket.IO room that resyncs on reconnect. */
(function () {
  "use strict";
  const T = window.HALL_T || {};

  function t(key, values) {
    let text = T[key] || key;
    for (const [k, v] of Object.entries(values || {})) text = text.replace("{" + k + "}", v);
    return text;
  }

  async function api(method, path, body) {
    const options = { method, headers: {}, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch("/api/v1" + path, options);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.message || response.statusText);
      error.code = data.error;
      error.status = response.status;
      throw error;
    }
    return data;
  }

  /* Join a room on every (re)connect: the server answers with a fresh snapshot. */
  function joinRoom(room, handlers) {
    const socket = io({ transports: ["websocket", "polling"], reconnectionDelayMax: 5000 });
    const offline = document.getElementById("offline");
    socket.on("connect", () => {
      if (offline) offline.hidden = true;
      socket.emit("join", { room });
    });
    socket.on("disconnect", () => { if (offline) offline.hidden = false; });
    for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
    return socket;
  }

  function showError(error) {
    const box = document.getElementById("error");
    if (!box) return;
    box.textContent = error ? error.message : "";
    box.hidden = !error;
  }

  function minutes(value) {
    return value === null || value === undefined ? t("no_window_open") : Math.round(value) + " " + t("minutes");
  }

  function name(item) {
    return window.HALL_LANG === "en" ? item.name_en : item.name_zh;
  }

  window.Hall = { t, api, joinRoom, showError, minutes, name };
})();
