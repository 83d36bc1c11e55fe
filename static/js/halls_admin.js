/* The halls admin: add, rename, disable or enable, move; the audit trail below. */
(function () {
  "use strict";
  const { api, t, el, name, showError } = window.Hall;
  const LEVELS = { province: t("province"), city: t("city"), district: t("district / county"), township: t("township") };
  const KINDS = { added: t("added"), renamed: t("renamed"), disabled: t("disabled"), enabled: t("enabled"), moved: t("moved") };
  let halls = [];

  async function change(code, body) {
    try {
      await api("PATCH", "/admin/halls/" + encodeURIComponent(code), body);
      showError(null);
    } catch (error) {
      showError(error);
    }
    load();
  }

  function options(select, chosen, filter) {
    select.replaceChildren(...halls.filter(filter).map((h) =>
      el("option", { value: h.code, selected: h.code === chosen }, name(h) + " (" + h.code + ")")));
  }

  function hallRow(hall) {
    const zh = el("input", { value: hall.name_zh, maxLength: 120, disabled: !hall.covered });
    const en = el("input", { value: hall.name_en, maxLength: 120, disabled: !hall.covered });
    const parent = el("select", { disabled: !hall.covered });
    options(parent, hall.parent, (h) => h.enabled && h.code !== hall.code);
    const actions = el("td", { className: "actions" });
    if (hall.covered) {
      const rename = el("button", { type: "button", className: "rename" }, t("Rename"));
      rename.addEventListener("click", () => change(hall.code, { name_zh: zh.value, name_en: en.value }));
      const toggle = el("button", { type: "button", className: hall.enabled ? "disable" : "enable" },
        hall.enabled ? t("Disable") : t("Enable"));
      toggle.addEventListener("click", () => change(hall.code, { enabled: !hall.enabled }));
      actions.append(rename, " ", toggle);
      if (hall.parent !== null) {
        const move = el("button", { type: "button", className: "move" }, t("Move"));
        move.addEventListener("click", () => change(hall.code, { parent: parent.value }));
        actions.append(" ", move);
      }
    }
    const tr = el("tr", {}, el("td", {}, hall.code), el("td", {}, zh), el("td", {}, en),
      el("td", {}, LEVELS[hall.level] || hall.level), el("td", {}, hall.parent === null ? "—" : parent),
      el("td", {}, hall.enabled ? (hall.floor ? t("open") : t("region")) : t("disabled")), actions);
    tr.dataset.hall = hall.code;
    return tr;
  }

  function changeRow(c) {
    const show = (values) => Object.entries(values).map(([k, v]) => k + ": " + v).join(", ");
    return el("tr", {}, el("td", {}, new Date(c.at).toLocaleString()), el("td", { className: "actor" }, c.actor),
      el("td", {}, c.hall), el("td", { className: "kind" }, KINDS[c.kind] || c.kind),
      el("td", {}, show(c.before)), el("td", {}, show(c.after)));
  }

  async function load() {
    try {
      const data = await api("GET", "/admin/halls");
      halls = data.halls;
      document.querySelector("#halls tbody").replaceChildren(...halls.map(hallRow));
      document.querySelector("#changes tbody").replaceChildren(...data.changes.map(changeRow));
      const form = document.getElementById("add-hall");
      options(form.parent, null, (h) => h.enabled && h.covered);
      options(form.template, null, (h) => h.floor);
    } catch (error) {
      showError(error);
    }
  }

  document.getElementById("add-hall").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = Object.fromEntries(new FormData(form).entries());
    try {
      await api("POST", "/admin/halls", body);
      form.reset();
      showError(null);
    } catch (error) {
      showError(error);
    }
    load();
  });
  load();
})();
