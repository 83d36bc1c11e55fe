/* Hall floor (admin): zones, services and windows as the database holds them, each row
   editable in place; add a zone, a service or a window; retire or reinstate a window; the
   screens and kiosks issued (their links are managed on the staff page); the history of
   changes. The server checks every change and records it under the admin's login. */
(function () {
  "use strict";
  const { t, api, showError, el, name } = window.Hall;
  const KIND = { intake: t("intake"), delivery: t("delivery"), general: t("general"),
    approval: t("approval"), self_service: t("self-service") };
  const DEVICE = { screen: t("call screen"), kiosk: t("kiosk"), pad: t("rating pad") };
  const CHANGE = { add_zone: t("zone added"), edit_zone: t("zone changed"),
    add_service: t("service added"), edit_service: t("service changed"),
    add_window: t("window added"), edit_window: t("window changed"),
    retire_window: t("window retired"), reinstate_window: t("window reinstated") };
  let floor = { zones: [], services: [], windows: [], boards: [] };

  function time(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString(window.HALL_LANG === "en" ? "en-GB" : "zh-CN",
      { timeZone: window.HALL_TZ, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  }

  async function run(call) {
    try {
      const result = await call();
      showError(null);
      return result;
    } catch (error) { showError(error); return null; }
  }

  const option = (value, text, selected) => el("option", { value, selected: Boolean(selected) }, text);
  const zoneOptions = (chosen) => floor.zones.map((z) => option(z.code, name(z), z.code === chosen));
  const kindsOf = (zone) => (floor.zones.find((z) => z.code === zone) || { window_kinds: [] }).window_kinds;
  const kindOptions = (zone, chosen) => kindsOf(zone).map((k) => option(k, KIND[k] || k, k === chosen));
  const boardOptions = (chosen) => [option("", t("none"), !chosen),
    ...floor.boards.map((b) => option(b.code, b.name_zh, b.code === chosen))];
  function serviceOptions(chosen) {
    return floor.services.map((s) => option(s.code, s.letter + " " + name(s), chosen.includes(s.code)));
  }
  const input = (value, props) => el("input", { value: value ?? "", ...props });
  const selected = (select) => [...select.selectedOptions].map((o) => o.value);

  function zoneRow(zone) {
    const zh = input(zone.name_zh, { maxLength: 64, required: true });
    const en = input(zone.name_en, { maxLength: 64, required: true });
    const save = el("button", { type: "button" }, t("Save"));
    save.addEventListener("click", () => change("PATCH", "/admin/floor/zones/" + zone.code,
      { name_zh: zh.value, name_en: en.value }));
    const tr = el("tr", {}, el("td", {}, zone.code), el("td", {}, zh), el("td", {}, en),
      el("td", {}, zone.window_kinds.map((k) => KIND[k] || k).join("、")), el("td", {}, save));
    tr.dataset.zone = zone.code;
    return tr;
  }

  function serviceRow(service) {
    const letter = input(service.letter, { maxLength: 1, size: 2 });
    const zh = input(service.name_zh, { maxLength: 64 });
    const en = input(service.name_en, { maxLength: 64 });
    const zone = el("select", {}, ...zoneOptions(service.zone));
    const board = el("select", {}, ...boardOptions(service.board));
    const minutes = input(service.mean_service_minutes, { type: "number", min: 0.5, max: 240, step: 0.5 });
    const save = el("button", { type: "button" }, t("Save"));
    save.addEventListener("click", () => change("PATCH", "/admin/floor/services/" + service.code, {
      letter: letter.value, name_zh: zh.value, name_en: en.value, zone: zone.value,
      board: board.value || null, mean_service_minutes: Number(minutes.value) }));
    const tr = el("tr", {}, el("td", {}, service.code), el("td", {}, letter), el("td", {}, zh),
      el("td", {}, en), el("td", {}, zone), el("td", {}, board), el("td", {}, minutes),
      el("td", {}, String(service.catalogue_items)), el("td", {}, save));
    tr.dataset.service = service.code;
    return tr;
  }

  function windowRow(win) {
    const retired = Boolean(win.retired_at);
    const zone = el("select", { disabled: retired }, ...zoneOptions(win.zone));
    const kind = el("select", { disabled: retired }, ...kindOptions(win.zone, win.kind));
    zone.addEventListener("change", () => kind.replaceChildren(...kindOptions(zone.value, kind.value)));
    const services = el("select", { multiple: true, size: 3, disabled: retired }, ...serviceOptions(win.services));
    const actions = el("td", {});
    if (!retired) {
      const save = el("button", { type: "button" }, t("Save"));
      save.addEventListener("click", () => change("PATCH", "/admin/floor/windows/" + win.number,
        { zone: zone.value, kind: kind.value, services: selected(services) }));
      actions.append(save, " ");
    }
    const step = el("button", { type: "button", className: retired ? "" : "warn" },
      retired ? t("Reinstate") : t("Retire"));
    step.addEventListener("click", () => {
      if (!retired && !window.confirm(t("Close window %(n)s for good?", { n: win.number }))) return;
      change("POST", "/admin/floor/windows/" + win.number + (retired ? "/reinstate" : "/retire"));
    });
    actions.append(step);
    const state = retired ? t("retired") : window.Hall.windowState(win.state);
    const tr = el("tr", { className: retired ? "retired" : "" }, el("td", {}, String(win.number)),
      el("td", {}, zone), el("td", {}, kind), el("td", {}, services),
      el("td", {}, win.current.join(", ")), el("td", {}, state), actions);
    tr.dataset.window = String(win.number);
    return tr;
  }

  function values(record) {
    return Object.entries(record).map(([k, v]) => k + ": " + (Array.isArray(v) ? v.join(", ") : v)).join("\n");
  }

  async function loadChanges() {
    const { changes } = await api("GET", "/admin/floor/changes");
    document.querySelector("#changes tbody").replaceChildren(...changes.map((c) => el("tr", {},
      el("td", {}, time(c.at)), el("td", {}, CHANGE[c.kind] || c.kind), el("td", {}, c.subject),
      el("td", {}, c.actor), el("td", {}, el("pre", {}, values(c.before))),
      el("td", {}, el("pre", {}, values(c.after))))));
  }

  async function loadDevices() {
    const { devices } = await api("GET", "/devices");
    document.querySelector("#devices tbody").replaceChildren(...devices.filter((d) => !d.revoked_at)
      .map((d) => el("tr", {}, el("td", {}, String(d.id)), el("td", {}, DEVICE[d.kind] || d.kind),
        el("td", {}, d.name), el("td", {}, d.scope), el("td", {}, time(d.last_seen_at)))));
  }

  async function load() {
    floor = await api("GET", "/admin/floor");
    document.querySelector("#zones tbody").replaceChildren(...floor.zones.map(zoneRow));
    document.querySelector("#services tbody").replaceChildren(...floor.services.map(serviceRow));
    document.querySelector("#windows tbody").replaceChildren(...floor.windows.map(windowRow));
    document.querySelectorAll("[data-zones]").forEach((s) => s.replaceChildren(...zoneOptions(s.value)));
    document.querySelectorAll("[data-boards]").forEach((s) => s.replaceChildren(...boardOptions(s.value)));
    document.querySelectorAll("[data-services]").forEach((s) => s.replaceChildren(...serviceOptions(selected(s))));
    const kinds = document.querySelector("#add-window [data-kinds]");
    kinds.replaceChildren(...kindOptions(document.querySelector("#add-window [data-zones]").value, kinds.value));
    await loadChanges();
  }

  async function change(method, path, body) {
    if ((await run(() => api(method, path, body))) !== null) await run(load);
  }

  function form(id, body) {
    const node = document.getElementById(id);
    node.addEventListener("submit", async (event) => {
      event.preventDefault();
      const done = await run(() => api("POST", "/admin/floor/" + id.replace("add-", "") + "s", body(node)));
      if (done !== null) { node.reset(); await run(load); }
    });
  }
  const text = (node, key) => node.elements[key].value.trim() || undefined;
  form("add-zone", (node) => ({ code: text(node, "code"), name_zh: text(node, "name_zh"),
    name_en: text(node, "name_en") }));
  form("add-service", (node) => ({ code: text(node, "code"), letter: text(node, "letter"),
    name_zh: text(node, "name_zh"), name_en: text(node, "name_en"), zone: node.elements.zone.value,
    board: node.elements.board.value || null,
    mean_service_minutes: Number(node.elements.mean_service_minutes.value) }));
  form("add-window", (node) => ({ number: Number(node.elements.number.value), zone: node.elements.zone.value,
    kind: node.elements.kind.value, services: selected(node.elements.services) }));
  document.querySelector("#add-window [data-zones]").addEventListener("change", (event) => {
    const kinds = document.querySelector("#add-window [data-kinds]");
    kinds.replaceChildren(...kindOptions(event.target.value, kinds.value));
  });

  run(load);
  run(loadDevices);
})();
