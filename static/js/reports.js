/* Manager reports: tickets, waits, service times and no-shows per day, hour, service, window and
   clerk over a date range, from GET /api/v1/reports/tickets (the same query gives the CSV);
   time paused per window and clerk by reason (GET /api/v1/reports/pauses); cases. */
(function () {
  "use strict";
  const { t, api, showError, name, el } = window.Hall;
  const PAGE = window.Hall.data();
  const services = Object.fromEntries((PAGE.services || []).map((s) => [s.code, s]));
  const clerks = Object.fromEntries((PAGE.clerks || []).map((c) => [c.id, c.name]));

  function label(group, key) {
    if (group === "service") return services[key] ? services[key].letter + " " + name(services[key]) : key;
    if (group === "window") return t("Window %(n)s", { n: key });
    if (group === "clerk") return clerks[key] ? clerks[key] + " (" + key + ")" : key;
    return key;
  }
  const cell = (value) => el("td", { className: "num" }, value === null || value === undefined ? "—" : String(value));

  function query(range, group, csv) {
    const params = new URLSearchParams({ from: range.from, to: range.to, group_by: group });
    if (csv) params.set("format", "csv");
    return "/reports/tickets?" + params;
  }

  function draw(section, group, rows) {
    const of = (key) => rows.map((r) => r[key]);
    window.Hall.reportChart(section.querySelector("canvas"), rows.map((r) => label(group, r.key)), [
      ["bar", t("Tickets"), "#0b4f9c", of("tickets")], ["bar", t("Served"), "#1b7f3b", of("served")],
      ["bar", t("No-shows"), "#c8102e", of("no_shows")],
      ["line", t("Mean wait (min)"), "#b35c00", of("wait_mean_minutes")],
      ["line", t("90th pct wait (min)"), "#6a3d9a", of("wait_p90_minutes")],
      ["line", t("Mean service (min)"), "#0f7c8c", of("service_mean_minutes")],
    ], { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: t("min") } });
  }

  async function show(section, range) {
    const group = section.dataset.group;
    section.querySelector("a.csv").href = window.Hall.url("/api/v1" + query(range, group, true));
    const report = await api("GET", query(range, group, false));
    section.querySelector("tbody").replaceChildren(...report.rows.map((r) => el("tr", {},
      el("td", {}, label(group, r.key)), cell(r.tickets), cell(r.served), cell(r.no_shows), cell(r.cancelled),
      cell(r.wait_mean_minutes), cell(r.wait_p90_minutes), cell(r.service_mean_minutes))));
    section.querySelector(".empty").hidden = report.rows.length > 0;
    section.querySelector(".dash-chart").hidden = report.rows.length === 0;
    draw(section, group, report.rows);
    return report;
  }

  /* Trips, materials and time to decision per department: what HALL.md says managers answer for. */
  async function showCases(range) {
    const section = document.getElementById("case-report");
    const params = new URLSearchParams({ from: range.from, to: range.to });
    section.querySelector("a.csv").href = window.Hall.url("/api/v1/reports/cases?" + params + "&format=csv");
    const report = await api("GET", "/reports/cases?" + params);
    section.querySelector("tbody").replaceChildren(...report.rows.map((r) => el("tr", {},
      el("td", {}, r.department_name_zh), cell(r.cases), cell(r.mean_windows_visited),
      cell(r.mean_materials_handed_in), cell(r.decided), cell(r.decided_within_limit),
      cell(r.mean_working_days_to_decision), cell(r.open_overdue))));
    section.querySelector(".empty").hidden = report.rows.length > 0;
  }

  /* Minutes windows stood paused, by reason: break, meeting, system fault. */
  async function showPauses(section, range) {
    const group = section.dataset.group;
    const params = new URLSearchParams({ from: range.from, to: range.to, group_by: group });
    section.querySelector("a.csv").href = window.Hall.url("/api/v1/reports/pauses?" + params + "&format=csv");
    const report = await api("GET", "/reports/pauses?" + params);
    section.querySelector("tbody").replaceChildren(...report.rows.map((r) => el("tr", {},
      el("td", {}, label(group, r.key)), cell(r.pauses), cell(r.break_minutes), cell(r.meeting_minutes),
      cell(r.system_fault_minutes), cell(r.paused_minutes))));
    section.querySelector(".empty").hidden = report.rows.length > 0;
  }

  async function load() {
    const form = document.getElementById("range");
    const range = { from: form.elements.from.value, to: form.elements.to.value };
    showError(null);
    history.replaceState(null, "", "?" + new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(location.search)), ...range }));
    try {
      const reports = await Promise.all([...document.querySelectorAll("section.report")].map((s) => show(s, range)));
      const days = reports[0].rows;
      const sum = (key) => days.reduce((a, r) => a + r[key], 0);
      document.getElementById("kpi-tickets").textContent = sum("tickets");
      document.getElementById("kpi-served").textContent = sum("served");
      document.getElementById("kpi-no-shows").textContent = sum("no_shows");
      document.getElementById("kpi-cancelled").textContent = sum("cancelled");
      await showCases(range);
      await Promise.all([...document.querySelectorAll("section.pause-report")].map((s) => showPauses(s, range)));
    } catch (error) {
      showError(error);
    }
  }

  document.getElementById("range").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  load();
})();
