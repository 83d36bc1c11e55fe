/* Clerk console: log in at a window with one's login and PIN, then call, recall, skip, start,
   finish, transfer.
   The server decides what is allowed; the buttons only mirror the window's state. */
(function () {
  "use strict";
  const { t, api, joinRoom, showError, name, el, windowState, ticketStatus } = window.Hall;
  const services = Object.fromEntries((window.Hall.data().services || []).map((s) => [s.code, s]));
  /* Which buttons make sense in which window state (the API still checks every press). */
  const ALLOWED = {
    idle: ["call-next", "pause", "logout"],
    calling: ["recall", "reannounce", "no-show", "start", "transfer"],
    serving: ["finish", "transfer", "hand-over"],
    paused: ["pause", "logout"],
    closed: [],
  };
  let number = null;
  let view = null;
  let socket = null;

  function serviceLabel(code) {
    const s = services[code];
    return s ? s.letter + " " + name(s) : code;
  }

  function render(next) {
    view = next;
    document.getElementById("title").textContent =
      t("Window %(n)s", { n: view.number }) + (view.clerk_name ? " · " + view.clerk_name : "");
    const state = document.getElementById("state");
    state.textContent = windowState(view.state);
    state.className = "state-badge state-" + view.state;
    const ticket = view.ticket;
    document.getElementById("current").textContent = ticket ? ticket.number : "—";
    document.getElementById("current-detail").textContent = ticket
      ? [serviceLabel(ticket.service), ticketStatus(ticket.status),
        ticket.recalls ? t("Recall") + " × " + ticket.recalls : ""].filter(Boolean).join(" · ")
      : "";
    document.getElementById("pause").textContent = view.state === "paused" ? t("Resume") : t("Pause");
    const allowed = ALLOWED[view.state] || [];
    document.querySelectorAll("[data-action]").forEach((b) => { b.disabled = !allowed.includes(b.dataset.action); });
    document.querySelector("#transfer button").disabled = !allowed.includes("transfer");
    document.querySelector("[data-action=hand-over]").hidden = view.kind !== "delivery";

    const table = document.getElementById("queue");
    table.replaceChildren();
    for (const [code, count] of Object.entries(view.waiting)) {
      table.insertRow().append(el("td", {}, serviceLabel(code)), el("td", { className: "count" }, String(count)));
    }
    const chips = document.getElementById("next");
    chips.replaceChildren(...(view.next.length ? view.next.map((n) => el("span", { className: "chip" }, n))
      : [el("span", { className: "muted" }, t("none"))]));
  }

  /* Proof that the call reached the hall: what the screens reported for the latest call. */
  function renderReach(reach) {
    if (!reach || reach.window !== number) return;
    const box = document.getElementById("reach");
    box.hidden = !reach.call;
    if (!reach.call) return;
    const missing = reach.screens.filter((s) => !s.shown).map((s) => s.name);
    box.textContent = reach.ticket + " · " + (reach.expected
      ? t("Shown on %(shown)s/%(expected)s screens, spoken on %(spoken)s",
        { shown: reach.shown, expected: reach.expected, spoken: reach.spoken })
      : t("No screen in service shows this call"));
    box.title = missing.length ? t("Not shown on: %(names)s", { names: missing.join(", ") }) : "";
    box.classList.toggle("short", reach.shown < reach.expected || reach.expected === 0);
    box.classList.toggle("unspoken", reach.spoken < reach.expected);
  }

  function enter(next) {
    number = next.number;
    sessionStorage.setItem("hall.window", String(number));
    document.getElementById("intake-link").href = "/intake?window=" + number;
    document.getElementById("appeals-link").href = "/appeals?window=" + number;
    document.getElementById("login").hidden = true;
    document.getElementById("console").hidden = false;
    render(next);
    if (socket) socket.disconnect();
    socket = joinRoom("window:" + number, { window: render, reach: renderReach });
    api("GET", "/windows/" + number + "/reach").then(renderReach, () => {});
  }

  function leave() {
    sessionStorage.removeItem("hall.window");
    if (socket) socket.disconnect();
    socket = null;
    document.getElementById("console").hidden = true;
    document.getElementById("login").hidden = false;
  }

  function failed(error) {
    showError(error);
    if (error.code === "not_logged_in" || error.code === "not_at_window") leave();
  }

  document.getElementById("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const windowNumber = document.getElementById("window").value;
    try {
      enter(await api("POST", "/windows/" + windowNumber + "/login", {
        clerk: document.getElementById("clerk").value.trim(),
        pin: document.getElementById("pin").value,
      }));
      document.getElementById("pin").value = "";
      showError(null);
    } catch (error) { showError(error); }
  });

  async function act(action) {
    const path = "/windows/" + number + "/" + action;
    const guard = view && view.ticket ? { ticket: view.ticket.number } : {};
    if (action === "call-next") {
      const result = await api("POST", path);
      render(result.window);
      showError(result.call ? null : { code: "nobody_waiting", message: t("No one is waiting for this window's services") });
      return;
    }
    if (action === "reannounce") {
      renderReach(await api("POST", path, guard));
    } else if (action === "hand-over") {
      render((await api("POST", path)).window);
    } else if (action === "logout") {
      await api("POST", path);
      leave();
    } else if (action === "pause") {
      render(await api("POST", path, { paused: view.state !== "paused" }));
    } else {
      render(await api("POST", path, guard));
    }
    showError(null);
  }

  document.querySelectorAll("[data-action]").forEach((button) =>
    button.addEventListener("click", async () => {
      button.disabled = true;
      try { await act(button.dataset.action); } catch (error) { failed(error); }
      if (view) render(view);
    }));

  document.getElementById("transfer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    const service = document.getElementById("to-service").value;
    const target = document.getElementById("to-window").value;
    if (service) body.service = service;
    if (target) body.window = Number(target);
    if (view && view.ticket) body.ticket = view.ticket.number;
    try {
      render(await api("POST", "/windows/" + number + "/transfer", body));
      document.getElementById("to-window").value = "";
      document.getElementById("to-service").value = "";
      showError(null);
    } catch (error) { failed(error); }
  });

  /* A reload keeps the console if this browser's clerk session still holds the window. */
  async function resume() {
    const saved = sessionStorage.getItem("hall.window");
    if (!saved) return;
    try {
      const current = await api("GET", "/windows/" + saved);
      if (current.clerk && current.state !== "closed") enter(current);
      else sessionStorage.removeItem("hall.window");
    } catch (error) { sessionStorage.removeItem("hall.window"); }
  }

  resume();
})();
