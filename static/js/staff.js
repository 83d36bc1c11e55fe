/* Staff and devices (admin): add staff, grant and revoke roles, windows, reset a password or
   PIN, disable; issue a device link (shown once, with its QR code) or revoke it; read the
   security log. The server checks every change and logs it under the admin's login. */
(function () {
  "use strict";
  const { t, api, showError, el } = window.Hall;
  const ROLE = { clerk: t("clerk"), approver: t("approver"), manager: t("manager"), admin: t("admin") };
  const KIND = { screen: t("call screen"), kiosk: t("kiosk"), pad: t("rating pad") };
  let staff = [];
  let selected = null;

  function time(iso) {
    if (!iso) return "";
    return new Date(iso + (iso.endsWith("Z") || iso.includes("+") ? "" : "Z")).toLocaleString(
      window.HALL_LANG === "en" ? "en-GB" : "zh-CN",
      { timeZone: window.HALL_TZ, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  }

  async function run(call) {
    try {
      const result = await call();
      showError(null);
      return result;
    } catch (error) { showError(error); return null; }
  }

  function roleChip(person, grant) {
    const revoke = el("button", { type: "button", className: "ghost", title: t("Revoke") }, "×");
    revoke.addEventListener("click", () => run(async () => {
      await api("POST", "/staff/" + person.login + "/roles/revoke",
        { role: grant.role, ...(grant.department ? { department: grant.department } : {}) });
      await loadStaff();
    }));
    return el("span", { className: "role" },
      ROLE[grant.role] + (grant.department ? " " + grant.department : ""), revoke);
  }

  function staffRow(person) {
    const edit = el("button", { type: "button" }, t("Edit"));
    edit.addEventListener("click", () => select(person.login));
    const tr = el("tr", { className: (person.enabled ? "" : "disabled") + (person.login === selected ? " selected" : "") },
      el("td", {}, person.login), el("td", {}, person.name),
      el("td", {}, ...person.roles.map((g) => roleChip(person, g))),
      el("td", {}, person.windows.map((w) => w.window).join(", ")),
      el("td", {}, time(person.last_login_at)),
      el("td", {}, time(person.locked_until || person.pin_locked_until)),
      el("td", {}, edit));
    tr.dataset.login = person.login;
    return tr;
  }

  async function loadStaff() {
    staff = (await api("GET", "/staff")).staff;
    document.querySelector("#staff tbody").replaceChildren(...staff.map(staffRow));
    if (selected) select(selected);
  }

  function select(login) {
    const person = staff.find((p) => p.login === login);
    selected = person ? login : null;
    document.getElementById("editor").hidden = !person;
    if (!person) return;
    document.querySelectorAll("#staff tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.login === login));
    document.getElementById("editing").textContent = person.login + " " + person.name;
    const mine = new Set(person.windows.map((w) => String(w.window)));
    for (const option of document.querySelector("#windows select").options) option.selected = mine.has(option.value);
    const toggle = document.getElementById("toggle-enabled");
    toggle.textContent = person.enabled ? t("Disable") : t("Enable");
    toggle.dataset.change = person.enabled ? "disable" : "enable";
  }

  function form(id, handler) {
    const node = document.getElementById(id);
    node.addEventListener("submit", async (event) => {
      event.preventDefault();
      if ((await run(() => handler(new FormData(node)))) !== null) node.reset();
    });
  }

  form("add-staff", async (data) => {
    const body = { login: data.get("login").trim(), name: data.get("name").trim() };
    if (data.get("password")) body.password = data.get("password");
    if (data.get("pin")) body.pin = data.get("pin");
    const added = await api("POST", "/staff", body);
    selected = added.login;
    await loadStaff();
    return added;
  });
  form("grant", async (data) => {
    const body = { role: data.get("role") };
    if (data.get("role") === "approver") body.department = data.get("department");
    const person = await api("POST", "/staff/" + selected + "/roles/grant", body);
    await loadStaff();
    return person;
  });
  form("windows", async () => {
    const windows = [...document.querySelector("#windows select").selectedOptions].map((o) => Number(o.value));
    const person = await api("PUT", "/staff/" + selected + "/windows", { windows });
    await loadStaff();
    return person;
  });
  form("password", (data) => api("POST", "/staff/" + selected + "/password", { password: data.get("password") }));
  form("pin", (data) => api("POST", "/staff/" + selected + "/pin", { pin: data.get("pin") }));
  document.getElementById("toggle-enabled").addEventListener("click", (event) => run(async () => {
    await api("POST", "/staff/" + selected + "/" + event.currentTarget.dataset.change);
    await loadStaff();
  }));

  function deviceRow(device) {
    const action = el("td");
    if (!device.revoked_at) {
      const revoke = el("button", { type: "button", className: "warn" }, t("Revoke"));
      revoke.addEventListener("click", () => run(async () => {
        await api("POST", "/devices/" + device.id + "/revoke");
        await loadDevices();
      }));
      action.append(revoke);
    } else {
      action.append(t("revoked %(at)s", { at: time(device.revoked_at) }));
    }
    const tr = el("tr", { className: device.revoked_at ? "disabled" : "" },
      el("td", {}, String(device.id)), el("td", {}, KIND[device.kind] || device.kind),
      el("td", {}, device.name), el("td", {}, device.scope),
      el("td", {}, time(device.issued_at) + (device.issued_by ? " · " + device.issued_by : "")),
      el("td", {}, time(device.last_seen_at) + (device.last_seen_from ? " · " + device.last_seen_from : "")),
      action);
    tr.dataset.id = String(device.id);
    return tr;
  }

  async function loadDevices() {
    const { devices } = await api("GET", "/devices");
    document.querySelector("#devices tbody").replaceChildren(...devices.map(deviceRow));
  }

  form("issue", async (data) => {
    const issued = await api("POST", "/devices",
      { kind: data.get("kind"), name: data.get("name").trim(), scope: data.get("scope") });
    document.getElementById("issued-link").textContent = issued.link;
    document.getElementById("issued-qr").src = issued.qr;
    document.getElementById("issued").hidden = false;
    await loadDevices();
    return issued;
  });

  function logRow(e) {
    return el("tr", {}, el("td", {}, time(e.at)), el("td", {}, e.kind), el("td", {}, e.actor || ""),
      el("td", {}, e.subject || ""), el("td", {}, e.origin || ""),
      el("td", { className: "small" }, JSON.stringify(e.detail || {})));
  }

  async function loadLog() {
    const kind = document.querySelector("#log-filter select").value;
    const { events } = await api("GET", "/security-log" + (kind ? "?kind=" + kind : ""));
    document.querySelector("#log tbody").replaceChildren(...events.map(logRow));
  }
  document.querySelector("#log-filter select").addEventListener("change", () => run(loadLog));

  run(() => Promise.all([loadStaff(), loadDevices(), loadLog()]));
})();
