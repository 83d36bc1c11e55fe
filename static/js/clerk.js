/* Clerk console: log in at a window with one's login and PIN, then call (next, or a chosen
   number out of order with a reason), recall, skip, start, finish, transfer, pause with a
   reason, and let a missed citizen rejoin. A timer shows how long the ticket has been called
   or served (or the window paused).
   The server decides what is allowed; the buttons only mirror the window's state. */
(function () {
  "use strict";
  const { t, pt, nt, api, joinRoom, showError, name, el, elapsed, windowState, ticketStatus } = window.Hall;
  const PAUSE_REASONS = { break: pt("pause reason", "break"), meeting: pt("pause reason", "meeting"),
    system_fault: pt("pause reason", "system fault") };
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
    document.querySelector(".pause-reason").hidden = view.state !== "idle";
    const allowed = ALLOWED[view.state] || [];
    document.querySelectorAll("[data-action]").forEach((b) => { b.disabled = !allowed.includes(b.dataset.action); });
    document.querySelector("#transfer button").disabled = !allowed.includes("transfer");
    document.querySelector("#call-chosen button").disabled = !allowed.includes("call-next");
    document.querySelector("[data-action=hand-over]").hidden = view.kind !== "delivery";
    /* 过号 only once the hall's recalls are done; until then the button says how many remain. */
    const noShow = document.getElementById("no-show");
    const left = ticket && ticket.status === "called" ? Math.max(0, view.recalls_needed - ticket.recalls) : 0;
    if (left > 0) noShow.disabled = true;
    noShow.textContent = left > 0
      ? t("No-show") + " · " + nt("%(num)d more recall needed", "%(num)d more recalls needed", left)
      : t("No-show");
    tick();

    const numbers = document.getElementById("waiting-numbers");
    numbers.replaceChildren(...view.waiting_numbers.map((n) => el("option", { value: n })));
    const missed = document.getElementById("missed");
    missed.replaceChildren(...(view.missed.length ? view.missed.map((n) => {
      const chip = el("button", { type: "button", className: "chip", title: t("Rejoin the queue") }, n);
      chip.addEventListener("click", () => { document.getElementById("rejoin-number").value = n; });
      return chip;
    }) : [el("span", { className: "muted" }, t("none"))]));

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
  /* The service timer: since the call, since service began, or since the pause. */
  function tick() {
    const timer = document.getElementById("timer");
    if (!view) return;
    const ticket = view.ticket;
    let text = "";
    if (ticket && ticket.status === "serving" && ticket.started_at) {
      text = t("Serving for %(time)s", { time: elapsed(ticket.started_at) });
    } else if (ticket && ticket.status === "called" && ticket.called_at) {
      text = t("Called %(time)s ago", { time: elapsed(ticket.called_at) });
    } else if (view.state === "paused" && view.paused_at) {
      text = t("Paused for %(time)s", { time: elapsed(view.paused_at) }) +
        (view.pause_reason ? " · " + PAUSE_REASONS[view.pause_reason] : "");
    }
    timer.textContent = text;
  }
  setInterval(tick, 1000);

  function enter(next) {
    number = next.number;
    sessionStorage.setItem("hall.window", String(number));
    document.getElementById("intake-link").href = window.Hall.url("/intake?window=" + number);
    document.getElementById("appeals-link").href = window.Hall.url("/appeals?window=" + number);
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

  function failed(error, retry) {
    showError(error, error.code === "offline" || error.code === "unavailable" ? retry : null);
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
      try {
        render((await api("POST", path, {})).window);
      } catch (error) {
        /* A gap material is still outstanding: only with a reason, which is kept on record. */
        if (error.code !== "gaps_outstanding") throw error;
        const reason = window.prompt(error.message + "\n" + t("Why hand it over anyway?"));
        if (!reason || !reason.trim()) { showError(error); return; }
        render((await api("POST", path, { confirm_gaps: true, reason: reason.trim() })).window);
      }
    } else if (action === "logout") {
      await api("POST", path);
      leave();
    } else if (action === "pause") {
      const resume = view.state === "paused";
      const reason = document.getElementById("pause-reason");
      if (!resume && !reason.value) {
        reason.focus();
        showError({ message: t("Choose why the window pauses") });
        return;
      }
      render(await api("POST", path, resume ? { paused: false } : { paused: true, reason: reason.value }));
      reason.value = "";
    } else {
      render(await api("POST", path, guard));
    }
    showError(null);
  }

  document.querySelectorAll("[data-action]").forEach((button) =>
    button.addEventListener("click", async () => {
      button.disabled = true;
      const again = () => button.click();
      try { await act(button.dataset.action); } catch (error) { failed(error, again); }
      if (view) render(view);
    }));

  document.getElementById("call-chosen").addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = document.getElementById("chosen-number");
    const reason = document.getElementById("chosen-reason");
    try {
      const result = await api("POST", "/windows/" + number + "/call",
        { ticket: chosen.value.trim().toUpperCase(), reason: reason.value.trim() });
      render(result.window);
      chosen.value = "";
      reason.value = "";
      showError(null);
    } catch (error) { failed(error, () => event.target.requestSubmit()); }
  });

  document.getElementById("rejoin").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = document.getElementById("rejoin-number");
    try {
      render(await api("POST", "/windows/" + number + "/rejoin", { ticket: field.value.trim().toUpperCase() }));
      field.value = "";
      showError(null);
    } catch (error) { failed(error, () => event.target.requestSubmit()); }
  });

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
    } catch (error) { failed(error, () => event.target.requestSubmit()); }
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
