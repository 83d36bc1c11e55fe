/* One-window intake form (一窗受理): the clerk serving a ticket picks items of the window's
   services, ticks the materials handed in (shared ones appear once), enters the applicant and
   accepts. The checks here only spare a round trip; the server repeats every one of them. */
(function () {
  "use strict";
  const { t, nt, name, el, showError, api: call } = window.Hall;
  const PAGE = window.Hall.data();
  const guides = {};  // item code → service guide, fetched once
  let offers = {};  // material → the library's licence of this applicant for it
  let ticket = null;
  let draft = null;       // the applicant's own form, pulled by ticket or case number
  let draftForm = null;   // its item fields, drawn by forms.js

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
    if (draft) await renderDraftFields();
    await loadOffers();
  }

  // ---------------------------------------------------------------- the applicant's own form

  async function pull(event) {
    event.preventDefault();
    showError(null);
    const ref = document.getElementById("pull-ref").value.trim();
    const query = ref ? "?ref=" + encodeURIComponent(ref) : "";
    try {
      const { drafts } = await call("GET", "/windows/" + PAGE.window + "/drafts" + query);
      document.getElementById("pull-none").hidden = drafts.length > 0;
      document.getElementById("pull-list").replaceChildren(...drafts.map((d) => {
        const use = el("button", { type: "button" }, t("Use this form"));
        use.addEventListener("click", () => loadDraft(d).catch(showError));
        return el("li", {}, el("span", { className: "chip" }, d.ticket || "—"),
          el("span", {}, d.items.join("、")), el("span", {}, d.applicant.name), use);
      }));
    } catch (error) { showError(error); }
  }

  /* The draft fills the page: items ticked, applicant typed in, the items' own fields drawn.
     The clerk checks and may correct; the server records every field changed. */
  async function loadDraft(d) {
    draft = d;
    draftForm = null;
    document.querySelectorAll("input[name=item]").forEach((box) => { box.checked = d.items.includes(box.value); });
    document.querySelector(`input[name=kind][value="${d.applicant.kind}"]`).checked = true;
    kindChanged();
    document.getElementById("applicant-name").value = d.applicant.name || "";
    document.getElementById("id-number").value = d.applicant.id_number || "";
    document.getElementById("phone").value = d.applicant.phone || "";
    document.getElementById("email").value = d.applicant.email || "";
    await itemsChanged();
    document.getElementById("draft-ticket").textContent = d.ticket || "";
    document.getElementById("draft-loaded").hidden = false;
  }

  async function renderDraftFields() {
    const codes = chosenItems();
    const described = await window.HallForms.describe(codes);
    const values = draftForm ? draftForm.values() : draft;
    draftForm = window.HallForms.build(document.getElementById("draft-fields"), null,
      described.map((f) => ({ item: f.item, fields: f.fields })), values);
    document.getElementById("draft-section").hidden = !described.some((f) => f.fields.length);
  }

  function renderMaterials(codes) {
    const table = document.getElementById("materials");
    const kept = {};  // ticks survive a change of items
    table.querySelectorAll("tr[data-material]").forEach((row) => {
      const library = row.querySelector("input.library");
      kept[row.dataset.material] = {
        paper: row.querySelector("input.paper").checked,
        e: !!(row.querySelector("input.e-licence") || {}).checked,
        library: library ? library.checked : undefined,
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
      let electronic = null, library = null;
      const offer = m.e_licence ? offers[m.name_zh] : undefined;
      if (offer) {
        /* The library holds this material for the applicant: offered instead of paper. */
        library = el("input", { type: "checkbox", className: "library", checked: was.library !== false && !was.paper });
        library.dataset.number = offer.number;
        cells.push(el("td", {}, el("label", { className: "library" }, library, " ",
          t("use licence %(n)s", { n: offer.number }), el("br"),
          el("span", { className: "muted small" }, offer.department.name_zh))));
      } else if (m.e_licence) {
        electronic = el("input", { type: "checkbox", className: "e-licence", checked: !!was.e && !was.paper });
        cells.push(el("td", {}, el("label", {}, electronic, " ", t("fetch e-licence"))));
      } else {
        cells.push(el("td", { className: "muted small" }, "—"));
      }
      const scan = el("input", { type: "file", className: "scan", accept: PAGE.upload_types.join(",") });
      scan.title = t("Scan or photo of the paper material");
      cells.push(el("td", {}, scan));
      const row = el("tr", {}, ...cells);
      row.dataset.material = m.name_zh;
      row.dataset.key = m.key ? "1" : "0";
      if (m.items.length > 1) row.classList.add("shared");
      /* A material comes on paper or from the e-licence library, never both. */
      const other = electronic || library;
      paper.addEventListener("change", () => { if (paper.checked && other) other.checked = false; summarise(); });
      if (other) other.addEventListener("change", () => { if (other.checked) paper.checked = false; summarise(); });
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
    const received = [], eLicences = [], licences = [], missingKey = [], gaps = [];
    document.querySelectorAll("#materials tr[data-material]").forEach((row) => {
      const material = row.dataset.material;
      const label = row.cells[0].firstChild.textContent;
      const library = row.querySelector("input.library");
      if (row.querySelector("input.paper").checked) received.push(material);
      else if ((row.querySelector("input.e-licence") || {}).checked) eLicences.push(material);
      else if (library && library.checked) licences.push({ material, number: library.dataset.number });
      else if (row.dataset.key === "1") missingKey.push(label);
      else gaps.push(label);
      row.classList.toggle("missing", !received.includes(material) && !eLicences.includes(material)
        && !licences.some((l) => l.material === material));
    });
    return { received, eLicences, licences, missingKey, gaps };
  }

  /* What the library holds for this applicant, asked once the ID number is well-formed. */
  let offersAsked = "";
  async function loadOffers() {
    const id = document.getElementById("id-number").value.trim().toUpperCase();
    const codes = chosenItems().filter((c) => guides[c]);
    const ok = kind() === "person" ? residentIdOk(id) : creditCodeOk(id);
    const question = ok && codes.length ? [kind(), id, ...codes].join("|") : "";
    if (question === offersAsked) return;
    offersAsked = question;
    offers = {};
    if (question) {
      const found = await call("POST", "/windows/" + PAGE.window + "/licence-offers",
        { kind: kind(), id_number: id, items: codes });
      if (offersAsked !== question) return;  // the clerk typed on meanwhile
      for (const offer of found.offers) offers[offer.material] = offer;
    }
    renderMaterials(codes);
  }

  /* Scans of the paper materials ticked above, stored with the case once it exists. */
  async function uploadScans(caseNumber) {
    const csrf = document.querySelector('meta[name="csrf-token"]');
    for (const row of document.querySelectorAll("#materials tr[data-material]")) {
      const file = row.querySelector("input.scan").files[0];
      if (!file || !row.querySelector("input.paper").checked) continue;
      const form = new FormData();
      form.append("material", row.dataset.material);
      form.append("file", file);
      const response = await fetch(window.Hall.url("/api/v1/cases/" + encodeURIComponent(caseNumber) + "/files"), {
        method: "POST", body: form, credentials: "same-origin",
        headers: { Accept: "application/json", "Accept-Language": window.HALL_LANG,
          "X-CSRFToken": csrf ? csrf.content : "" },
      });
      if (!response.ok) {
        const data = await response.json().catch(() => ({}));
        throw new Error(t("Scan of %(m)s not stored: %(e)s", { m: row.dataset.material, e: data.message || response.statusText }));
      }
    }
  }

  function summarise() {
    const { missingKey, gaps } = ticks();
    const refusal = document.getElementById("refusal");
    refusal.hidden = missingKey.length === 0;
    document.getElementById("refusal-list").replaceChildren(...missingKey.map((m) => el("li", {}, m)));
    const gapBox = document.getElementById("gaps");
    gapBox.hidden = missingKey.length > 0 || gaps.length === 0;
    document.getElementById("gap-list").replaceChildren(...gaps.map((m) => el("li", {}, m)));
    const { licences } = ticks();
    document.getElementById("consent-row").hidden = licences.length === 0;
    document.getElementById("submit").disabled =
      !ticket || chosenItems().length === 0 || missingKey.length > 0
      || (licences.length > 0 && !document.getElementById("licence-consent").checked);
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

  const BOX_OF = { "applicant.name": "applicant-name", "applicant.id_number": "id-number",
    "applicant.phone": "phone", "applicant.email": "email" };

  function serverRefused(error) {
    if (error.code === "invalid_form") {
      for (const e of error.body.errors) {
        if (BOX_OF[e.field]) fieldError(BOX_OF[e.field], window.HallForms.refusal(e.code));
      }
      if (draftForm) draftForm.showErrors(error.body.errors);
    }
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
    const { received, eLicences, licences } = ticks();
    const button = document.getElementById("submit");
    button.disabled = true;
    const applicant = {
      kind: kind(),
      name: document.getElementById("applicant-name").value.trim(),
      id_number: document.getElementById("id-number").value.trim(),
      phone: document.getElementById("phone").value.trim(),
      email: document.getElementById("email").value.trim() || undefined,
    };
    try {
      const licenceUse = {
        licences,
        licence_consent: licences.length > 0 && document.getElementById("licence-consent").checked,
      };
      let result;
      if (draft) {
        /* Accepted from the applicant's form: the server compares it with the draft. */
        const items = chosenItems();
        const fields = draftForm ? draftForm.values().fields : {};
        result = await call("POST", "/windows/" + PAGE.window + "/drafts/" + draft.id + "/accept", {
          form: { items, applicant: { ...applicant, email: applicant.email || null },
            fields: Object.fromEntries(Object.entries(fields).filter(([code]) => items.includes(code))) },
          ticket: ticket ? ticket.number : undefined,
          received,
          e_licences: eLicences,
          ...licenceUse,
        });
      } else {
        result = await call("POST", "/windows/" + PAGE.window + "/intake", {
          applicant,
          items: chosenItems(),
          ticket: ticket ? ticket.number : undefined,
          received,
          e_licences: eLicences,
          ...licenceUse,
        });
      }
      try {
        await uploadScans(result.case_number);
      } catch (error) {
        /* The case exists: say which scan failed, then go on to its slip. */
        window.alert(error.message);
      }
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
    await prefillIdentity();
    summarise();
  }

  /* A ticket taken by resident ID (kiosk) pre-fills the ID box, once per ticket; the server
     logs this clerk's read of the whole number. */
  let prefilled = null;
  async function prefillIdentity() {
    if (!ticket || !ticket.resident_id || prefilled === ticket.number) return;
    prefilled = ticket.number;
    const box = document.getElementById("id-number");
    if (box.value.trim()) return;
    const { id_number: number } = await call("GET", "/windows/" + PAGE.window + "/ticket-identity");
    if (!number) return;
    document.querySelector("input[name=kind][value=person]").checked = true;
    kindChanged();
    box.value = number;
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.querySelectorAll("input[name=kind]").forEach((r) => r.addEventListener("change", () => {
    kindChanged();
    loadOffers().catch(showError);
  }));
  document.getElementById("id-number").addEventListener("input", () => loadOffers().catch(showError));
  document.getElementById("licence-consent").addEventListener("change", summarise);
  for (const id of ["applicant-name", "id-number", "phone"]) {
    document.getElementById(id).addEventListener("input", () => fieldError(id, ""));
  }
  document.getElementById("intake").addEventListener("submit", submit);
  document.getElementById("pull-form").addEventListener("submit", pull);
  kindChanged();
  Promise.all([loadItems(), loadTicket()]).catch(showError);
  /* The ticket may be called or finished from the console while this page is open. */
  if (PAGE.clerk) window.Hall.joinRoom("window:" + PAGE.window, { window: () => loadTicket().catch(showError) });
})();
