/* One-window intake form (一窗受理): the clerk serving a ticket picks items of the window's
   services, ticks the materials handed in (shared ones appear once), enters the applicant and
   accepts. The checks here only spare a round trip; the server repeats every one of them. */
(function () {
  "use strict";
  const { t, nt, name, el, showError, api: call } = window.Hall;
  const PAGE = window.Hall.data();
  const guides = {};  // item code → service guide, fetched once
  let ticket = null;

  // ---------------------------------------------------------------- identity checks (GB 11643, GB 32100)

  const PROVINCES = new Set(("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 " +
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83").split(" "));
  const CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";

  function residentIdOk(value) {
    const id = value.trim().toUpperCase();
    if (!/^\d{17}[\dX]$/.test(id) || !PROVINCES.has(id.slice(0, 2))) return false;
    if (id.slice(2, 6) === "0000" && id.slice(0, 2) < "71") return false;
    const [y, m, d] = [+id.slice(6, 10), +id.slice(10, 12), +id.slice(12, 14)];
    const birth = new Date(Date.UTC(y, m - 1, d));
    if (birth.getUTCFullYear() !== y || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d) return false;
    if (y < 1900 || birth > new Date()) return false;
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += +id[i] * (2 ** (17 - i) % 11);
    return "10X98765432"[sum % 11] === id[17];
  }

  function creditCodeOk(value) {
    const code = value.trim().toUpperCase();
    if (code.length !== 18 || [...code].some((c) => !CREDIT_ALPHABET.includes(c))) return false;
    if (!/^\d{6}$/.test(code.slice(2, 8))) return false;
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += CREDIT_ALPHABET.indexOf(code[i]) * (3 ** i % 31);
    return CREDIT_ALPHABET[(31 - (sum % 31)) % 31] === code[17];
  }

  function phoneOk(value) {
    const digits = value.replace(/[\s-]/g, "").replace(/^(\+86|0086)(?=1)/, "");
    return /^1[3-9]\d{9}$/.test(digits) || /^0[1-9]\d{8,10}$/.test(digits);
  }

  // ---------------------------------------------------------------- items and materials

  function chosenItems() {
    return [...document.querySelectorAll("input[name=item]:checked")].map((box) => box.value);
  }

  /* One row per material name across the chosen items: key if key for any item, e-licence
     only if every item accepts it, the most copies any item asks for (as the server merges). */
  function mergedMaterials(codes) {
    const merged = new Map();
    for (const code of codes) {
      for (const m of guides[code].materials) {
        const row = merged.get(m.name_zh);
        if (!row) {
          merged.set(m.name_zh, { ...m, items: [code] });
        } else {
          row.key = row.key || m.key;
          row.e_licence = row.e_licence && m.e_licence;
          row.copies = Math.max(row.copies, m.copies);
          row.items.push(code);
        }
      }
    }
    return [...merged.values()];
  }

  async function loadItems() {
    const box = document.getElementById("items");
    for (const service of PAGE.services) {
      const { items } = await call("GET", "/services/" + encodeURIComponent(service.code) + "/items");
      const group = el("fieldset", { className: "item-group" }, el("legend", {}, name(service)));
      for (const item of items) {
        const limit = item.time_limit_days
          ? nt("%(num)d working day", "%(num)d working days", item.time_limit_days) : t("on the spot");
        group.append(el("label", { className: "item" },
          el("input", { type: "checkbox", name: "item", value: item.code }),
          el("span", { className: "code" }, item.code),
          el("span", {}, name(item)),
          el("span", { className: "muted small" }, name(item.department) + " · " + limit)));
      }
      box.append(group);
    }
    box.addEventListener("change", () => itemsChanged().catch(showError));
  }

  async function itemsChanged() {
    const codes = chosenItems();
    await Promise.all(codes.filter((c) => !guides[c]).map(async (c) => {
      guides[c] = await call("GET", "/items/" + encodeURIComponent(c) + "/guide");
    }));
    renderMaterials(chosenItems().filter((c) => guides[c]));
  }

  function renderMaterials(codes) {
    const table = document.getElementById("materials");
    const kept = {};  // ticks survive a change of items
    table.querySelectorAll("tr[data-material]").forEach((row) => {
      kept[row.dataset.material] = {
        paper: row.querySelector("input.paper").checked,
        e: !!(row.querySelector("input.e-licence") || {}).checked,
      };
    });
    const body = table.tBodies[0];
    body.replaceChildren();
    const materials = mergedMaterials(codes);
    for (const m of materials) {
      const was = kept[m.name_zh] || {};
      const paper = el("input", { type: "checkbox", className: "paper", checked: !!was.paper });
      const cells = [
        el("td", {}, el("span", {}, name(m)),
          m.key ? el("span", { className: "tag key" }, t("key material")) : ""),
        el("td", { className: "num" }, String(m.copies)),
        el("td", { className: "small" }, m.items.join("、")),
        el("td", {}, el("label", {}, paper, " ", t("received"))),
      ];
      let electronic = null;
      if (m.e_licence) {
        electronic = el("input", { type: "checkbox", className: "e-licence", checked: !!was.e && !was.paper });
        cells.push(el("td", {}, el("label", {}, electronic, " ", t("fetch e-licence"))));
      } else {
        cells.push(el("td", { className: "muted small" }, "—"));
      }
      const row = el("tr", {}, ...cells);
      row.dataset.material = m.name_zh;
      row.dataset.key = m.key ? "1" : "0";
      if (m.items.length > 1) row.classList.add("shared");
      /* A material comes on paper or from the e-licence library, never both. */
      paper.addEventListener("change", () => { if (paper.checked && electronic) electronic.checked = false; summarise(); });
      if (electronic) electronic.addEventListener("change", () => { if (electronic.checked) paper.checked = false; summarise(); });
      body.append(row);
    }
    document.getElementById("no-items").hidden = codes.length > 0;
    table.hidden = codes.length === 0;
    const shared = materials.filter((m) => m.items.length > 1).length;
    document.getElementById("shared").textContent = shared
      ? nt("%(num)d shared material, handed in once", "%(num)d shared materials, handed in once", shared) : "";
    summarise();
  }

  function ticks() {
    const received = [], eLicences = [], missingKey = [], gaps = [];
    document.querySelectorAll("#materials tr[data-material]").forEach((row) => {
      const material = row.dataset.material;
      const label = row.cells[0].firstChild.textContent;
      if (row.querySelector("input.paper").checked) received.push(material);
      else if ((row.querySelector("input.e-licence") || {}).checked) eLicences.push(material);
      else if (row.dataset.key === "1") missingKey.push(label);
      else gaps.push(label);
      row.classList.toggle("missing", !received.includes(material) && !eLicences.includes(material));
    });
    return { received, eLicences, missingKey, gaps };
  }

  function summarise() {
    const { missingKey, gaps } = ticks();
    const refusal = document.getElementById("refusal");
    refusal.hidden = missingKey.length === 0;
    document.getElementById("refusal-list").replaceChildren(...missingKey.map((m) => el("li", {}, m)));
    const gapBox = document.getElementById("gaps");
    gapBox.hidden = missingKey.length > 0 || gaps.length === 0;
    document.getElementById("gap-list").replaceChildren(...gaps.map((m) => el("li", {}, m)));
    document.getElementById("submit").disabled =
      !ticket || chosenItems().length === 0 || missingKey.length > 0;
  }

  // ---------------------------------------------------------------- applicant and submit

  function kind() {
    return document.querySelector("input[name=kind]:checked").value;
  }

  function kindChanged() {
    const organisation = kind() === "organisation";
    document.getElementById("id-label").textContent = organisation ? t("Unified social credit code") : t("Resident ID number");
    document.getElementById("name-label").textContent = organisation ? t("Organisation name") : t("Name");
  }

  function fieldError(id, message) {
    const box = document.querySelector(`.field-error[data-for="${id}"]`);
    box.textContent = message || "";
    box.hidden = !message;
    document.getElementById(id).setAttribute("aria-invalid", message ? "true" : "false");
    return !message;
  }

  function validApplicant() {
    const nameText = document.getElementById("applicant-name").value.trim();
    const id = document.getElementById("id-number").value;
    const phone = document.getElementById("phone").value;
    const idOk = kind() === "person" ? residentIdOk(id) : creditCodeOk(id);
    const results = [
      fieldError("applicant-name", nameText ? "" : t("Enter the applicant's name")),
      fieldError("id-number", idOk ? "" : (kind() === "person"
        ? t("Check the resident ID number (18 characters, last one a check digit)")
        : t("Check the unified social credit code"))),
      fieldError("phone", phoneOk(phone) ? "" : t("Enter an 11-digit mobile or a landline with area code")),
    ];
    return results.every(Boolean);
  }

  /* Server errors about one field are shown beside it; a refusal lists what is missing. */
  const FIELD_OF = {
    invalid_name: "applicant-name", invalid_resident_id: "id-number",
    invalid_credit_code: "id-number", invalid_phone: "phone", invalid_email: "email",
  };

  function serverRefused(error) {
    const field = FIELD_OF[error.code];
    if (field) {
      fieldError(field, error.message);
      return;
    }
    if (error.code === "key_material_missing") {
      document.getElementById("refusal").hidden = false;
      document.getElementById("gaps").hidden = true;
      document.getElementById("refusal-list").replaceChildren(...error.body.missing.map(
        (m) => el("li", {}, m.item + " " + m.item_name_zh + "：" + m.material)));
    }
    showError(error);
  }

  async function submit(event) {
    event.preventDefault();
    showError(null);
    if (!validApplicant()) return;
    const { received, eLicences } = ticks();
    const button = document.getElementById("submit");
    button.disabled = true;
    try {
      const result = await call("POST", "/windows/" + PAGE.window + "/intake", {
        applicant: {
          kind: kind(),
          name: document.getElementById("applicant-name").value.trim(),
          id_number: document.getElementById("id-number").value.trim(),
          phone: document.getElementById("phone").value.trim(),
          email: document.getElementById("email").value.trim() || undefined,
        },
        items: chosenItems(),
        ticket: ticket ? ticket.number : undefined,
        received,
        e_licences: eLicences,
      });
      window.location.assign(result.slip_url);
    } catch (error) {
      serverRefused(error);
      summarise();
    }
  }

  async function loadTicket() {
    const view = await call("GET", "/windows/" + PAGE.window);
    ticket = view.ticket && view.clerk && PAGE.clerk === view.clerk ? view.ticket : null;
    document.getElementById("ticket").textContent = ticket ? ticket.number : "—";
    document.getElementById("no-ticket").hidden = !!ticket || !PAGE.clerk;
    summarise();
  }

  document.querySelectorAll("input[name=kind]").forEach((r) => r.addEventListener("change", kindChanged));
  for (const id of ["applicant-name", "id-number", "phone"]) {
    document.getElementById(id).addEventListener("input", () => fieldError(id, ""));
  }
  document.getElementById("intake").addEventListener("submit", submit);
  kindChanged();
  Promise.all([loadItems(), loadTicket()]).catch(showError);
  /* The ticket may be called or finished from the console while this page is open. */
  if (PAGE.clerk) window.Hall.joinRoom("window:" + PAGE.window, { window: () => loadTicket().catch(showError) });
})();
