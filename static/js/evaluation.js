/* 好差评 figures per hall, department, window, clerk and item over a date range, from
   GET /api/v1/reports/ratings (the same query gives the CSV); charts with the vendored Chart.js. */
(function () {
  "use strict";
  const { t, api, showError, el, name } = window.Hall;
  const PAGE = window.Hall.data();
  const clerks = Object.fromEntries((PAGE.clerks || []).map((c) => [c.id, c.name]));
  const items = PAGE.items || {};
  const departments = PAGE.departments || {};

  function label(group, key) {
    if (group === "hall") return t("Whole hall");
    if (group === "window") return t("Window %(n)s", { n: key });
    if (group === "clerk") return clerks[key] ? clerks[key] + " (" + key + ")" : key;
    if (group === "department") return departments[key] || key;
    if (group === "item") return items[key] ? key + " " + name(items[key]) : key;
    return key;
  }
  const cell = (value) => el("td", { className: "num" }, value === null || value === undefined ? "—" : String(value));
  const percent = (rate) => (rate === null ? "—" : (rate * 100).toFixed(1) + "%");

  function query(range, group, csv) {
    const params = new URLSearchParams({ from: range.from, to: range.to, group_by: group });
    if (csv) params.set("format", "csv");
    return "/reports/ratings?" + params;
  }

  function draw(section, group, rows) {
    const of = (key) => rows.map((r) => r[key]);
    const percentOf = (key) => rows.map((r) => (r[key] === null ? null : r[key] * 100));
    window.Hall.reportChart(section.querySelector("canvas"), rows.map((r) => label(group, r.key)), [
      ["bar", t("Good"), "#1b7f3b", of("good")], ["bar", t("Bad"), "#c8102e", of("bad")],
      ["line", t("Rating rate"), "#0b4f9c", percentOf("rating_rate")],
      ["line", t("Good-rating rate"), "#b35c00", percentOf("good_rate")],
      ["line", t("Rectified on time"), "#6a3d9a", percentOf("on_time_rate")],
      ["line", t("Call-back rate"), "#0f7c8c", percentOf("call_back_rate")],
    ], { min: 0, max: 100, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "%" } });
  }

  async function show(section, range) {
    const group = section.dataset.group;
    section.querySelector("a.csv").href = window.Hall.url("/api/v1" + query(range, group, true));
    const report = await api("GET", query(range, group, false));
    section.querySelector("tbody").replaceChildren(...report.rows.map((r) => el("tr", {},
      el("td", {}, label(group, r.key)), cell(r.finished), cell(r.rated), cell(percent(r.rating_rate)),
      cell(r.good), cell(r.bad), cell(r.excluded), cell(percent(r.good_rate)), cell(r.rectifications),
      cell(percent(r.on_time_rate)), cell(percent(r.call_back_rate)))));
    section.querySelector(".empty").hidden = report.rows.length > 0;
    section.querySelector(".dash-chart").hidden = report.rows.length === 0;
    draw(section, group, report.rows);
  }

  async function load() {
    const form = document.getElementById("range");
    const range = { from: form.elements.from.value, to: form.elements.to.value };
    showError(null);
    history.replaceState(null, "", "?" + new URLSearchParams(range));
    try {
      await Promise.all([...document.querySelectorAll("section.report")].map((s) => show(s, range)));
    } catch (error) { showError(error); }
  }

  document.getElementById("range").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  load();
})();
