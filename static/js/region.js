/* The regional overview: every hall the manager's grants cover, asked again every few
   seconds (the root has no Socket.IO room; each hall's figures are read at most that often). */
(function () {
  "use strict";
  const { api, t, el, name, minutes, showError } = window.Hall;
  const PAGE = window.Hall.data();
  const body = document.querySelector("#region tbody");

  function rate(figures) {
    if (!figures.ratings) return "—";
    return t("%(n)s (%(good)s%% good)", { n: figures.ratings, good: Math.round(figures.good_rate * 100) });
  }

  function cells(figures) {
    return [
      el("td", { className: "num fig-waiting" }, String(figures.waiting)),
      el("td", { className: "num fig-longest" }, figures.waiting ? minutes(figures.longest_wait_minutes) : "—"),
      el("td", { className: "num fig-open" }, figures.open_windows + " / " + figures.windows),
      el("td", { className: "num fig-people" }, (figures.people_estimated ? "≈ " : "") + figures.people),
      el("td", { className: "num fig-overdue" + (figures.overdue_items ? " fig-alert" : "") },
        figures.warning_items ? t("%(red)s (+%(yellow)s near)", { red: figures.overdue_items, yellow: figures.warning_items })
          : String(figures.overdue_items)),
      el("td", { className: "num fig-ratings" }, rate(figures)),
      el("td", { className: "num fig-alerts" + (figures.critical_alerts ? " fig-alert" : "") }, String(figures.alerts)),
    ];
  }

  /* One row of figures: a hall's own (with its dashboard link), or a region's total. */
  function line(node, figures, depth, link, note) {
    const label = el("td", { className: "hall" });
    label.style.paddingLeft = (0.6 + depth * 1.5) + "rem";
    label.append(link ? el("a", { href: node.dashboard, title: t("Open this hall's live dashboard") }, name(node))
      : el("strong", {}, name(node)));
    if (note) label.append(" ", el("span", { className: "muted small" }, note));
    const tr = el("tr", { className: link ? "hall-row" : "region-row" }, label);
    tr.dataset.hall = node.code;
    if (figures === null) {
      label.append(" ", el("span", { className: "badge" }, t("not answering")));
      tr.append(el("td", { colSpan: 7, className: "muted" }, t("This hall's database did not answer.")));
    } else {
      tr.append(...cells(figures));
    }
    return tr;
  }

  /* A hall alone: its own row. A region: its total. A hall with halls below it (a city
     centre over its districts): the total, then its own hall's row. */
  function rows(node) {
    const below = node.total.halls + node.total.unavailable > (node.floor ? 1 : 0);
    if (!below) return [line(node, node.available ? node.own : null, node.depth, node.floor)];
    const missing = node.total.unavailable ? t("%(n)s not answering", { n: node.total.unavailable }) : null;
    const total = line(node, node.total, node.depth, false, node.floor ? t("with the halls below") : missing);
    if (!node.floor) return [total];
    total.dataset.hall = node.code + ":total";
    return [total, line(node, node.available ? node.own : null, node.depth + 1, true, t("this hall"))];
  }

  function draw(view) {
    body.replaceChildren(...view.nodes.flatMap(rows));
    const tops = view.nodes.filter((n) => n.depth === 0);
    const sum = (key) => tops.reduce((total, n) => total + n.total[key], 0);
    document.getElementById("kpi-halls").textContent = String(sum("halls") + sum("unavailable"));
    document.getElementById("kpi-waiting").textContent = String(sum("waiting"));
    document.getElementById("kpi-longest").textContent = sum("waiting")
      ? minutes(Math.max(...tops.map((n) => n.total.longest_wait_minutes))) : "—";
    document.getElementById("kpi-overdue").textContent = String(sum("overdue_items"));
    document.getElementById("updated").textContent = new Date(view.at).toLocaleTimeString();
  }

  async function refresh() {
    try {
      draw(await api("GET", "/region/overview"));
      showError(null);
    } catch (error) {
      showError(error);
    }
    setTimeout(refresh, (PAGE.refresh_seconds || 5) * 1000);
  }
  refresh();
})();
