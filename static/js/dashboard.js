/* Manager dashboard: people per zone, cameras, queues, windows, alerts, overdue cases and
   window workload proposals, live from the "manager" room (events: snapshot, queue,
   occupancy, alerts, proposals, workload) on top of GET /api/v1/dashboard. */
(function () {
  "use strict";
  const { t, pt, nt, api, joinRoom, showError, minutes, name, throttle, el, windowState } = window.Hall;
  const PAGE = window.Hall.data();
  const CONFIG = PAGE.dashboard;
  const LOCALE = window.HALL_LANG === "en" ? "en-GB" : "zh-CN";
  const zoneNames = Object.fromEntries((PAGE.zones || []).map((z) => [z.code, name(z)]));
  const services = Object.fromEntries((PAGE.services || []).map((s) => [s.code, s]));
  const clerks = Object.fromEntries((PAGE.clerks || []).map((c) => [c.id, c.name]));
  const COLORS = ["#0b4f9c", "#c8102e", "#1b7f3b", "#b35c00", "#6a3d9a", "#0f7c8c", "#5b6470"];

  const state = { queue: null, zones: {}, cameras: [], overdue: null, serverAlerts: [] };
  let chart = null;

  /* Times come as ISO UTC; one without an offset is UTC too (as the poller writes them). */
  function utc(text) {
    if (!text) return null;
    return new Date(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : text + "Z");
  }
  function clock(value, withSeconds) {
    const date = value instanceof Date ? value : utc(value);
    if (!date) return t("never");
    const options = { timeZone: window.HALL_TZ, hour: "2-digit", minute: "2-digit", hour12: false };
    if (withSeconds) options.second = "2-digit";
    return date.toLocaleTimeString(LOCALE, options);
  }
  /* What a manager can act on; the words never come from the camera or a library. */
  const CAMERA_STATUS = { online: t("online"), no_analytics: t("no counting analytics"),
    unauthorized: t("wrong credentials"), unreachable: t("unreachable"),
    garbled: t("answers garbled"), unknown: t("not polled yet") };
  function cameraStatus(c) {
    if (c.status === "clock") return t("clock off by %(n)s s", { n: c.clock_offset_s ?? "?" });
    return CAMERA_STATUS[c.status] || c.status;
  }
  const CHANGE_KIND = { assign: t("reassign"), open: t("open window"), move: t("move clerk"),
    auto_mode: t("auto mode settings") };
  const ACTOR = { auto: t("auto") };  /* otherwise the manager's login */
  function serviceLabel(code) {
    const s = services[code];
    return s ? s.letter + " " + name(s) : code;
  }
  const letters = (codes) => codes.map((c) => (services[c] ? services[c].letter : c)).sort().join(" ");
  const num = (value, className) => el("td", { className: "num" + (className ? " " + className : "") }, String(value));

  /* ---- alerts: the rules live on the server (hall_ops.floor.alerts.build_alerts); after a live
     queue or occupancy push the page asks for them again, at most every 2 s. */
  let alertsTimer = null;
  function alertsLater() {
    if (alertsTimer) return;
    alertsTimer = setTimeout(async () => {
      alertsTimer = null;
      try {
        state.serverAlerts = (await api("GET", "/dashboard/alerts")).alerts;
        renderAlerts();
        renderQueue(state.queue);
      } catch (error) { /* the next push or the minute reload tries again */ }
    }, 2000);
  }
  function alertText(a) {
    switch (a.kind) {
      case "queue": return t("%(s)s: %(n)s waiting (alert at %(t)s)", { s: serviceLabel(a.service), n: a.waiting, t: a.threshold });
      case "unstaffed": return t("%(s)s: %(n)s waiting, no window open", { s: serviceLabel(a.service), n: a.waiting });
      case "camera": return t("Camera %(c)s (%(z)s) %(st)s",
        { c: a.camera, z: zoneNames[a.zone] || a.zone, st: cameraStatus(a) })
        + " · " + t("Last seen") + " " + clock(a.last_seen_at);
      case "screen": return t("Screen %(s)s (%(w)s) silent since %(at)s",
        { s: a.screen, w: screenPlace(a.scope), at: clock(a.since, true) });
      case "printer": return printerText(a, { p: a.printer, w: screenPlace(a.scope), at: clock(a.since, true) });
      case "overdue": return nt("%(num)d item past its time limit", "%(num)d items past their time limit", a.count);
      case "rectification_overdue": return nt("%(num)d bad rating not rectified in time", "%(num)d bad ratings not rectified in time", a.count);
      default: return a.kind;
    }
  }
  function printerText(a, values) {
    if (a.paper === "out") return t("Ticket printer %(p)s (%(w)s) out of paper since %(at)s: that kiosk issues no tickets", values);
    if (a.paper === "low") return t("Ticket printer %(p)s (%(w)s) paper near its end (%(at)s)", values);
    return t("Ticket printer %(p)s (%(w)s) not answering since %(at)s", values);
  }
  function screenPlace(scope) {
    const [kind, key] = scope.split(":");
    if (kind === "zone") return zoneNames[key] || key;
    if (kind === "window") return t("Window %(n)s", { n: key });
    return t("Whole hall");
  }
  function renderAlerts() {
    const alerts = state.serverAlerts;
    const list = document.getElementById("alerts");
    list.replaceChildren(...(alerts.length
      ? alerts.map((a) => el("li", { className: a.severity + " alert-" + a.kind }, alertText(a)))
      : [el("li", { className: "ok muted" }, t("No alerts"))]));
    document.getElementById("kpi-alerts").textContent = alerts.length;
    document.getElementById("kpi-alerts-box").classList.toggle("bad", alerts.length > 0);
  }

  /* ---- queues and windows */
  function renderQueue(queue) {
    state.queue = queue;
    const alerting = new Set(state.serverAlerts.filter((a) => a.service).map((a) => a.service));
    const tbody = document.querySelector("#queue tbody");
    tbody.replaceChildren(...queue.services.map((s) => {
      const tr = el("tr", { className: alerting.has(s.code) ? "alert" : "" },
        el("td", {}, serviceLabel(s.code)), num(s.waiting, "count"), num(minutes(s.estimated_wait_minutes)),
        num(t("%(n)s min", { n: Math.round(s.longest_wait_minutes) })), num(s.open_windows));
      tr.dataset.service = s.code;
      return tr;
    }));
    const windows = document.querySelector("#windows tbody");
    windows.replaceChildren(...queue.windows.map((w) => {
      const tr = el("tr", { className: "state-" + w.state },
        el("td", {}, t("Window %(n)s", { n: w.number })),
        el("td", {}, el("span", { className: "state-badge state-" + w.state }, windowState(w.state))),
        el("td", {}, w.clerk ? clerks[w.clerk] || w.clerk : ""), el("td", {}, w.ticket || ""),
        num(w.served_today, "served"), el("td", { className: "services", title: w.services.map(serviceLabel).join(", ") }, letters(w.services)));
      tr.dataset.window = w.number;
      return tr;
    }));
    const sum = (list, f) => list.reduce((a, x) => a + f(x), 0);
    document.getElementById("kpi-waiting").textContent = sum(queue.services, (s) => s.waiting);
    document.getElementById("kpi-open").textContent =
      queue.windows.filter((w) => w.state !== "closed").length + " / " + queue.windows.length;
    document.getElementById("kpi-served").textContent = sum(queue.windows, (w) => w.served_today);
    document.getElementById("updated").textContent = clock(queue.at, true);
    renderAlerts();
  }

  /* ---- people per zone and cameras */
  function renderZones() {
    const box = document.getElementById("zones");
    const ordered = Object.keys(zoneNames).map((code) => state.zones[code]).filter(Boolean);
    box.replaceChildren(...ordered.map((z) => {
      const card = el("div", { className: "zone-card" + (z.stale ? " stale" : "") },
        el("div", {}, zoneNames[z.zone] || z.zone),
        el("span", { className: "count" }, z.count === null ? "—" : String(z.count)), " " + nt("person", "people", z.count ?? 0));
      if (z.estimate) card.append(el("span", { className: "flag estimate", title: t("No camera count: estimated from waiting tickets") }, t("estimate")));
      if (z.stale) card.append(el("span", { className: "flag stale", title: t("Camera offline or its count too old") }, t("stale")));
      if (z.clamped) card.append(el("span", { className: "flag clamped", title: t("A camera reported fewer than nobody; counted as 0") }, t("corrected")));
      card.dataset.zone = z.zone;
      return card;
    }));
  }
  function renderCameras() {
    const tbody = document.querySelector("#cameras tbody");
    tbody.replaceChildren(...(state.cameras.length ? state.cameras.map((c) => {
      const tr = el("tr", {}, el("td", {}, c.camera), el("td", {}, zoneNames[c.zone] || c.zone),
        el("td", { className: "cam-" + c.status }, cameraStatus(c)),
        el("td", {}, c.last_seen_at ? clock(c.last_seen_at, true) : t("never")));
      tr.dataset.camera = c.camera;
      return tr;
    }) : [el("tr", {}, el("td", { colSpan: 4, className: "muted" }, t("No cameras configured")))]));
  }

  function drawChart(series) {
    if (!window.Chart) return;
    const since = Date.now() - CONFIG.chart_hours * 3600e3;
    const datasets = Object.keys(zoneNames).map((code, i) => ({
      label: zoneNames[code], zone: code,
      data: (series[code] || []).map((p) => ({ x: utc(p.at).getTime(), y: p.count })),
      borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length],
      pointRadius: 1, borderWidth: 2, tension: 0.2,
    }));
    chart = new window.Chart(document.getElementById("occupancy-chart"), {
      type: "line",
      data: { datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
        interaction: { mode: "nearest", intersect: false },
        scales: {
          x: { type: "linear", min: since, ticks: { callback: (v) => clock(new Date(v)), maxTicksLimit: 8 } },
          y: { beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: { tooltip: { callbacks: { title: (items) => items.length ? clock(new Date(items[0].parsed.x)) : "" } } },
      },
    });
  }
  function addToChart(zones) {
    if (!chart) return;
    const since = Date.now() - CONFIG.chart_hours * 3600e3;
    for (const dataset of chart.data.datasets) {
      const z = zones[dataset.zone];
      if (!z || z.count === null || !z.at) continue;
      const x = utc(z.at).getTime();
      const last = dataset.data[dataset.data.length - 1];
      if (!last || x > last.x) dataset.data.push({ x, y: z.count });
      while (dataset.data.length && dataset.data[0].x < since) dataset.data.shift();
    }
    chart.options.scales.x.min = since;
    chart.update("none");
  }

  /* ---- overdue intake items */
  function renderOverdue(items) {
    const table = document.getElementById("overdue");
    if (!table || items === null) return;
    table.tBodies[0].replaceChildren(...items.slice(0, 50).map((w) => el("tr", { className: w.overdue ? "overdue" : "" },
      el("td", {}, w.case_number), el("td", {}, w.item + " " + (w.name_zh || "")),
      el("td", {}, w.department.name_zh || w.department.code), el("td", {}, w.deadline || ""),
      num(w.used_days + " / " + w.time_limit_days),
      el("td", {}, w.overdue ? pt("item deadline", "overdue") : t("due soon")))));
    document.getElementById("no-overdue").hidden = items.length > 0;
  }

  /* ---- workload proposals, auto mode, change log */
  function waitText(value) {
    return value === null || value === undefined ? t("no window") : String(Math.round(value));
  }
  function renderProposals(payload) {
    const tbody = document.querySelector("#proposals tbody");
    tbody.replaceChildren(...payload.proposals.map((p) => {
      const waits = Object.keys(p.before).map((code) =>
        (services[code] ? services[code].letter : code) + " " + waitText(p.before[code]) + " → " + waitText(p.after[code]));
      const button = el("button", { type: "button", className: "apply" }, t("Apply"));
      button.dataset.id = p.id;
      const kind = el("div", { className: "muted small" }, (CHANGE_KIND[p.kind] || p.kind) + (p.automatic ? "" : " · " + t("needs a person")));
      const tr = el("tr", {}, el("td", {}, t("Window %(n)s", { n: p.window })),
        el("td", {}, letters(p.from_services) + " → " + letters(p.to_services)),
        el("td", { className: "reason" }, window.HALL_LANG === "en" ? p.reason_en : p.reason_zh, kind),
        el("td", {}, waits.join("; ")), el("td", {}, button));
      tr.dataset.id = p.id;
      tr.dataset.window = p.window;
      return tr;
    }));
    document.getElementById("no-proposals").hidden = payload.proposals.length > 0;
    renderAuto(payload.auto);
  }
  function renderAuto(auto) {
    const form = document.getElementById("auto");
    if (!form.contains(document.activeElement)) {
      form.elements.enabled.checked = auto.enabled;
      form.elements.min_windows_per_service.value = auto.min_windows_per_service;
      form.elements.min_interval_minutes.value = auto.min_interval_minutes;
    }
    document.getElementById("next-allowed").textContent = auto.next_allowed_at ? clock(auto.next_allowed_at) : "—";
  }
  function changeText(c) {
    const r = c.record || {};
    if (c.kind === "auto_mode") {
      const a = r.after || {};
      return t("Auto mode") + " " + (a.enabled ? t("on") : t("off")) + " · " + t("Minimum windows per service") + " " + a.min_windows_per_service
        + " · " + t("Minimum minutes between changes") + " " + a.min_interval_minutes;
    }
    return t("Window %(n)s", { n: c.window }) + " " + letters(r.from_services || []) + " → " + letters(r.to_services || [])
      + " (" + (CHANGE_KIND[c.kind] || c.kind) + ")";
  }
  function renderChanges(changes) {
    const tbody = document.querySelector("#changes tbody");
    tbody.replaceChildren(...changes.map((c) => el("tr", {}, el("td", {}, clock(c.at)),
      el("td", {}, ACTOR[c.actor] || c.actor), el("td", {}, changeText(c)))));
    document.getElementById("no-changes").hidden = changes.length > 0;
  }

  const loadProposals = () => api("GET", "/workload/proposals").then(renderProposals).catch(showError);
  const proposalsLater = throttle(loadProposals, 20000);
  const loadChanges = () => api("GET", "/workload/changes?limit=10").then((r) => renderChanges(r.changes)).catch(showError);

  document.getElementById("refresh-proposals").addEventListener("click", () => { showError(null); loadProposals(); });
  document.querySelector("#proposals tbody").addEventListener("click", async (event) => {
    const button = event.target.closest("button.apply");
    if (!button) return;
    button.disabled = true;
    showError(null);
    try {
      const result = await api("POST", "/workload/proposals/apply", { id: button.dataset.id });
      renderProposals({ proposals: result.proposals, auto: (await api("GET", "/workload/auto")) });
      loadChanges();
    } catch (error) {
      showError(error);
      loadProposals();
    }
  });
  document.getElementById("auto").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    showError(null);
    try {
      const auto = await api("POST", "/workload/auto", {
        enabled: form.elements.enabled.checked,
        min_windows_per_service: Number(form.elements.min_windows_per_service.value),
        min_interval_minutes: Number(form.elements.min_interval_minutes.value),
      });
      document.activeElement.blur();
      renderAuto(auto);
      document.getElementById("auto-saved").hidden = false;
      setTimeout(() => { document.getElementById("auto-saved").hidden = true; }, 3000);
      loadChanges();
      loadProposals();
    } catch (error) {
      showError(error);
    }
  });

  /* ---- citizens not yet told their result is ready (GET /notices/unsent) */
  const CHANNEL = { sms: t("SMS"), email: t("e-mail") };
  const NOTICE_STATUS = { pending: t("retrying"), failed: t("gave up") };
  function noticeText(n) {
    return (CHANNEL[n.channel] || n.channel) + " · " + (NOTICE_STATUS[n.status] || n.status) + " · "
      + nt("%(num)d try", "%(num)d tries", n.attempts);
  }
  function renderUnsent(data) {
    const table = document.getElementById("unsent");
    if (!table) return;
    document.getElementById("no-channel").hidden = data.channels.length > 0;
    table.tBodies[0].replaceChildren(...data.unsent.slice(0, 50).map((u) => {
      const failed = u.notices.find((n) => n.status === "failed");
      const retry = failed ? el("button", { type: "button", className: "retry-notice" }, t("Send again")) : "";
      if (failed) retry.dataset.id = String(failed.id);
      return el("tr", {}, el("td", {}, u.case_number), el("td", {}, u.phone), el("td", {}, clock(u.ready_at)),
        el("td", {}, u.notices.length ? u.notices.map(noticeText).join("; ") : t("not notified")),
        el("td", { className: "small" }, u.notices.map((n) => n.last_error || "").filter(Boolean).join("; ")),
        el("td", {}, retry));
    }));
    document.getElementById("no-unsent").hidden = data.unsent.length > 0;
  }
  async function loadUnsent() {
    if (document.getElementById("unsent")) renderUnsent(await api("GET", "/notices/unsent"));
  }
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.retry-notice");
    if (!button) return;
    try {
      await api("POST", "/notices/" + button.dataset.id + "/retry");
      await loadUnsent();
    } catch (error) {
      showError(error);
    }
  });

  /* ---- the whole dashboard, at start and every minute (overdue cases, cameras without a poller) */
  async function loadAll() {
    const data = await api("GET", "/dashboard");
    state.zones = data.occupancy;
    state.cameras = data.cameras;
    state.serverAlerts = data.alerts;
    renderZones();
    renderCameras();
    renderQueue(data.queue);
    renderOverdue(data.overdue);
    renderAuto(data.auto);
    renderChanges(data.changes);
    await loadUnsent();
  }

  async function start() {
    try {
      await loadAll();
      const history = await api("GET", "/dashboard/occupancy?hours=" + CONFIG.chart_hours);
      drawChart(history.zones);
    } catch (error) {
      showError(error);
    }
    loadProposals();
    joinRoom("manager", {
      snapshot: (data) => renderQueue(data.queue),
      queue: (queue) => { renderQueue(queue); proposalsLater(); alertsLater(); },
      occupancy: (data) => {
        state.zones = { ...state.zones, ...data.zones };
        if (data.cameras && data.cameras.length) {
          const fresh = Object.fromEntries(data.cameras.map((c) => [c.camera, c]));
          state.cameras = state.cameras.map((c) => ({ ...c, ...(fresh[c.camera] || {}) }));
        }
        renderZones();
        renderCameras();
        alertsLater();
        addToChart(data.zones);
      },
      alerts: (data) => { state.serverAlerts = data.alerts; renderAlerts(); },
      /* The deadline job: items at the warning share of their limit, or overdue. */
      deadlines: (data) => { state.overdue = data.items; renderOverdue(data.items); },
      proposals: renderProposals,
      workload: (data) => { if (data.auto) renderAuto(data.auto); loadChanges(); },
    });
    setInterval(() => loadAll().catch(() => {}), 60000);
  }

  start();
})();
