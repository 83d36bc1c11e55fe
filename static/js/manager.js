/* Manager overview: queues, windows and calls, live from the "manager" room,
   and today's tickets per hour from the report API. */
(function () {
  "use strict";
  const { t, api, joinRoom, minutes, name, throttle, el, windowState } = window.Hall;
  const PAGE = window.Hall.data();
  const zones = Object.fromEntries((PAGE.zones || []).map((z) => [z.code, name(z)]));
  const letters = Object.fromEntries((PAGE.services || []).map((s) => [s.code, s.letter]));
  let calls = [];
  let chart = null;

  function row(tbody, values, className) {
    const tr = tbody.insertRow();
    for (const v of values) tr.append(v instanceof Node ? v : el("td", {}, String(v)));
    if (className) tr.className = className;
  }

  const num = (value) => el("td", { className: "num" }, String(value));

  function renderQueue(queue) {
    const services = document.querySelector("#services tbody");
    services.replaceChildren();
    for (const s of queue.services) {
      row(services, [s.letter + " " + name(s), zones[s.zone] || s.zone, num(s.waiting),
        num(minutes(s.estimated_wait_minutes)), num(t("%(n)s min", { n: Math.round(s.longest_wait_minutes) })),
        num(s.open_windows)],
      s.waiting > 0 && s.open_windows === 0 ? "alert" : "");
      if (s.waiting > 0 && s.open_windows === 0) services.lastChild.title = t("People waiting, no window open");
    }
    const windows = document.querySelector("#windows tbody");
    windows.replaceChildren();
    for (const w of queue.windows) {
      row(windows, [w.number, zones[w.zone] || w.zone,
        el("td", {}, el("span", { className: "state-badge state-" + w.state }, windowState(w.state))),
        w.clerk || "", w.ticket || "", num(w.served_today),
        w.services.map((c) => letters[c] || c).join(" ")], "state-" + w.state);
    }
    const sum = (list, f) => list.reduce((a, x) => a + f(x), 0);
    document.getElementById("kpi-waiting").textContent = sum(queue.services, (s) => s.waiting);
    document.getElementById("kpi-open").textContent =
      queue.windows.filter((w) => w.state !== "closed").length + " / " + queue.windows.length;
    document.getElementById("kpi-served").textContent = sum(queue.windows, (w) => w.served_today);
    document.getElementById("kpi-longest").textContent =
      t("%(n)s min", { n: Math.round(Math.max(0, ...queue.services.map((s) => s.longest_wait_minutes))) });
    document.getElementById("updated").textContent = new Date(queue.at).toLocaleTimeString(
      window.HALL_LANG === "en" ? "en-GB" : "zh-CN", { timeZone: window.HALL_TZ });
    hourly();
  }

  function renderCalls() {
    const table = document.getElementById("recent");
    table.replaceChildren();
    for (const c of calls) {
      row(table, [c.ticket, t("Window %(n)s", { n: c.window }), c.recall ? t("again") : "",
        new Date(c.at).toLocaleTimeString(window.HALL_LANG === "en" ? "en-GB" : "zh-CN",
          { timeZone: window.HALL_TZ, hour: "2-digit", minute: "2-digit" })]);
    }
  }

  /* The chart is a report query, not a push: redraw at most twice a minute. */
  const hourly = throttle(async () => {
    if (!window.Chart) return;
    const report = await api("GET", "/reports/tickets?group_by=hour").catch(() => null);
    if (!report) return;
    const labels = report.rows.map((r) => r.key);
    const data = [
      { label: t("Tickets"), data: report.rows.map((r) => r.tickets), backgroundColor: "#0b4f9c" },
      { label: t("Served"), data: report.rows.map((r) => r.served), backgroundColor: "#1b7f3b" },
    ];
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets.forEach((d, i) => { d.data = data[i].data; });
      chart.update();
    } else {
      chart = new window.Chart(document.getElementById("hourly"), {
        type: "bar",
        data: { labels, datasets: data },
        options: { animation: false, responsive: true, maintainAspectRatio: false,
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    }
  }, 30000);

  joinRoom("manager", {
    snapshot(snap) { calls = snap.calls; renderCalls(); renderQueue(snap.queue); },
    queue: renderQueue,
    call(call) {
      if (calls.some((c) => c.seq === call.seq)) return;
      calls = [call, ...calls].sort((a, b) => b.seq - a.seq).slice(0, 10);
      renderCalls();
    },
  });
})();
