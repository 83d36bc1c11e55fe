/* The application form on the citizen's phone (or the kiosk's last step): pick the item, fill
   the form, save it as this ticket's draft; see it, change it or delete it. The ticket's token
   is the key: nobody else sees what was typed. */
(function () {
  "use strict";
  const { t, api, el, name } = window.Hall;
  const section = document.getElementById("form-section");
  if (!section) return;
  const token = document.getElementById("ticket").dataset.token;
  const url = "/tickets/" + token + "/draft";
  const picker = document.getElementById("form-item");
  const editor = document.getElementById("form-editor");
  const saved = document.getElementById("form-saved");
  const errorBox = document.getElementById("form-error");
  let form = null;
  let draft = null;

  function problem(error) {
    errorBox.textContent = error ? error.message : "";
    errorBox.hidden = !error;
  }

  async function draw(code, values) {
    document.getElementById("form-save").disabled = !code;
    if (!code) { document.getElementById("form-fields").replaceChildren(); form = null; return; }
    const [described] = await window.HallForms.describe([code]);
    form = window.HallForms.build(document.getElementById("form-fields"), described.applicant,
      [{ item: described.item, fields: described.fields }], values);
  }

  function showSaved(view) {
    draft = view;
    saved.hidden = !view;
    editor.hidden = !!view;
    if (!view) return;
    document.getElementById("form-saved-items").textContent = view.items.join("、");
    document.getElementById("form-expires").textContent = t("kept until %(time)s", {
      time: new Date(view.expires_at).toLocaleString(window.HALL_LANG === "en" ? "en-GB" : "zh-CN",
        { timeZone: window.HALL_TZ, dateStyle: "short", timeStyle: "short" }) });
  }

  async function start() {
    const { items } = await api("GET", "/services/" + encodeURIComponent(section.dataset.service) + "/items");
    for (const item of items) picker.append(el("option", { value: item.code }, item.code + " " + name(item)));
    try {
      showSaved(await api("GET", url));
    } catch (error) {
      if (error.code !== "unknown_draft") throw error;
      showSaved(null);
    }
  }

  picker.addEventListener("change", () => draw(picker.value, form ? form.values() : null).catch(problem));

  editor.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem(null);
    if (!form) return;
    const values = form.values();
    const body = { items: [picker.value], applicant: values.applicant, fields: values.fields };
    try {
      showSaved(await api("PUT", url, body));
    } catch (error) {
      if (error.code === "invalid_form" && form.showErrors(error.body.errors)) {
        problem({ message: t("Please correct the marked fields") });
      } else {
        problem(error);
      }
    }
  });

  document.getElementById("form-edit").addEventListener("click", () => {
    picker.value = draft.items[0];
    draw(draft.items[0], draft).then(() => showSaved(null)).catch(problem);
  });

  document.getElementById("form-delete").addEventListener("click", async () => {
    if (!window.confirm(t("Delete everything you typed in this form?"))) return;
    try {
      await api("DELETE", url);
      picker.value = "";
      await draw("", null);
      showSaved(null);
    } catch (error) { problem(error); }
  });

  start().catch(problem);
})();
