/* Application forms (申请表) drawn from the catalogue's description (GET /items/<code>/form):
   the kiosk, the citizen's phone and the intake window draw the same fields with the same
   labels and show the server's refusals beside the box they concern. The checks that matter
   are the server's (one pydantic model per item, built from the same description); the
   browser only draws and collects. */
(function () {
  "use strict";
  const { t, el } = window.Hall;
  const english = () => window.HALL_LANG === "en";
  const label = (f) => (english() ? f.label_en : f.label_zh);
  const help = (f) => (english() ? f.help_en : f.help_zh);

  /* A refused field's code, in words (hall_ops.forms.spec.FIELD_CODES). */
  function refusal(code) {
    const words = {
      missing_field: t("Required"),
      too_short: t("Too short"),
      too_long: t("Too long"),
      pattern_mismatch: t("Not in the required format"),
      out_of_range: t("Outside the allowed range"),
      invalid_choice: t("Choose one of the options"),
      invalid_date: t("Enter a date"),
      invalid_number: t("Enter a number"),
      invalid_resident_id: t("Check the resident ID number (18 characters, last one a check digit)"),
      invalid_credit_code: t("Check the unified social credit code"),
      invalid_phone: t("Enter an 11-digit mobile or a landline with area code"),
      invalid_email: t("Check the e-mail address"),
      unknown_field: t("Not a field of this form"),
    };
    return words[code] || t("Check this field");
  }

  function control(field, path, value) {
    const common = { name: path, id: "f-" + path.replace(/[^A-Za-z0-9_-]/g, "-"), autocomplete: "off" };
    let box;
    if (field.type === "choice") {
      box = el("select", common, el("option", { value: "" }, "—"),
        ...field.choices.map((c) => el("option", { value: c.code }, english() ? c.label_en : c.label_zh)));
    } else if (field.type === "address") {
      box = el("textarea", { ...common, rows: 2, maxLength: field.max_length || 200 });
    } else {
      const type = { date: "date", phone: "tel" }[field.type] || "text";
      box = el("input", { ...common, type, spellcheck: false });
      if (field.type === "number") box.inputMode = "decimal";
      if (field.type === "id_number") { box.maxLength = 18; box.autocapitalize = "characters"; }
      if (field.max_length && field.type === "text") box.maxLength = field.max_length;
      if (field.type === "date") {
        if (field.minimum && field.minimum !== "today") box.min = field.minimum;
        if (field.maximum && field.maximum !== "today") box.max = field.maximum;
      }
    }
    box.dataset.path = path;
    box.dataset.type = field.type;
    if (value !== undefined && value !== null) box.value = String(value);
    return box;
  }

  function row(field, path, value) {
    const box = control(field, path, value);
    const error = el("span", { className: "field-error", hidden: true });
    error.dataset.for = path;
    const parts = [el("span", { className: "field-label" }, label(field),
      field.required ? el("span", { className: "required", title: t("Required") }, " *") : "")];
    parts.push(box);
    if (help(field)) parts.push(el("span", { className: "field-help muted small" }, help(field)));
    parts.push(error);
    const wrapper = el("label", { className: "form-field" }, ...parts);
    box.addEventListener("input", () => mark(wrapper, null));
    return wrapper;
  }

  function mark(wrapper, message) {
    const error = wrapper.querySelector(".field-error");
    error.textContent = message || "";
    error.hidden = !message;
    wrapper.querySelector("[data-path]").setAttribute("aria-invalid", message ? "true" : "false");
  }

  /* Draw a form into ``container``: ``applicant`` (the section's fields, or null where the
     page has its own applicant boxes) and ``items`` ([{item, fields}]); ``values`` as the
     API stores a draft ({applicant, fields: {code: {…}}}). Returns what the page needs. */
  function build(container, applicant, items, values) {
    values = values || {};
    container.replaceChildren();
    if (applicant) {
      const section = el("fieldset", { className: "form-section" }, el("legend", {}, t("Applicant")));
      for (const f of applicant) section.append(row(f, "applicant." + f.name, (values.applicant || {})[f.name]));
      container.append(section);
    }
    for (const { item, fields } of items) {
      if (!fields.length) continue;
      const given = (values.fields || {})[item.code] || {};
      const section = el("fieldset", { className: "form-section" },
        el("legend", {}, item.code + " " + (english() ? item.name_en : item.name_zh)));
      for (const f of fields) section.append(row(f, "fields." + item.code + "." + f.name, given[f.name]));
      container.append(section);
    }
    return {
      /* The form as the API takes it; empty boxes are sent as null. */
      values() {
        const out = { applicant: {}, fields: {} };
        container.querySelectorAll("[data-path]").forEach((box) => {
          const parts = box.dataset.path.split(".");
          const value = box.value.trim() === "" ? null : box.value.trim();
          if (parts[0] === "applicant") out.applicant[parts[1]] = value;
          else (out.fields[parts[1]] = out.fields[parts[1]] || {})[parts[2]] = value;
        });
        return out;
      },
      /* The server's ``invalid_form`` errors beside their boxes; false if none was shown. */
      showErrors(errors) {
        let shown = false;
        for (const e of errors || []) {
          const box = container.querySelector(`[data-path="${CSS.escape(e.field)}"]`);
          if (!box) continue;
          mark(box.closest(".form-field"), refusal(e.code));
          shown = true;
        }
        const first = container.querySelector("[aria-invalid=true]");
        if (first) first.focus();
        return shown;
      },
      clear() { container.replaceChildren(); },
      boxes() { return [...container.querySelectorAll("[data-path]")]; },
      set(path, value) {
        const box = container.querySelector(`[data-path="${CSS.escape(path)}"]`);
        if (box && value !== undefined && value !== null) box.value = String(value);
      },
    };
  }

  /* The descriptions of several items (cached per page). */
  const described = {};
  async function describe(codes) {
    await Promise.all(codes.filter((c) => !described[c]).map(async (c) => {
      described[c] = await window.Hall.api("GET", "/items/" + encodeURIComponent(c) + "/form");
    }));
    return codes.map((c) => described[c]);
  }

  window.HallForms = { build, describe, refusal };
})();
