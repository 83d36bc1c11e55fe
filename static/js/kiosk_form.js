/* The kiosk's application form: choose the item, fill the form on the touch screen with the
   on-screen keyboard (simple-keyboard, vendored; 中文 with pinyin candidates or English),
   then the form is checked, a ticket of the item's service taken and the form saved as that
   ticket's draft. Nothing of it stays on the kiosk for the next citizen.

   ID-card reader hook (the floor issue): whatever reads the card hands the page its reading,
       document.dispatchEvent(new CustomEvent("hall:id-card",
         { detail: { name: "王五", id_number: "110105194912310021", address: "…" } }));
   or calls window.HallKiosk.prefillFromIdCard(reading); the applicant's boxes are filled
   (and the first empty address box of the form), as if typed. */
(function () {
  "use strict";
  const { t, api, el, name } = window.Hall;
  const kiosk = window.HallKiosk;
  const picker = document.getElementById("kiosk-form-item");
  const fields = document.getElementById("kiosk-form-fields");
  const save = document.getElementById("kiosk-form-save");
  const services = {};  // item code → queue service
  let form = null;
  let active = null;    // the box the keyboard types into
  let reading = null;   // an ID card read before the form was drawn
  let chinese = true;

  const Keyboard = window.SimpleKeyboard.default || window.SimpleKeyboard;
  const CHINESE = window.SimpleKeyboardChinese;
  const keyboard = new Keyboard(".simple-keyboard", {
    layout: CHINESE.layout,
    layoutCandidates: CHINESE.layoutCandidates,
    enableLayoutCandidates: true,
    preventMouseDownDefault: true,  // the box keeps its focus while keys are pressed
    onChange: (value) => {
      if (!active) return;
      active.value = value;
      active.dispatchEvent(new Event("input", { bubbles: true }));
    },
    onKeyPress: (button) => {
      if (button === "{shift}" || button === "{lock}") {
        const current = keyboard.options.layoutName;
        keyboard.setOptions({ layoutName: current === "default" ? "shift" : "default" });
      }
    },
  });

  document.getElementById("keyboard-lang").addEventListener("click", () => {
    chinese = !chinese;
    keyboard.setOptions(chinese
      ? { layout: CHINESE.layout, layoutCandidates: CHINESE.layoutCandidates, enableLayoutCandidates: true }
      : { layout: { default: ["1 2 3 4 5 6 7 8 9 0 {bksp}", "q w e r t y u i o p", "a s d f g h j k l -",
          "{shift} z x c v b n m . @ {shift}", "{space}"],
        shift: ["1 2 3 4 5 6 7 8 9 0 {bksp}", "Q W E R T Y U I O P", "A S D F G H J K L _",
          "{shift} Z X C V B N M , @ {shift}", "{space}"] }, enableLayoutCandidates: false });
  });

  fields.addEventListener("focusin", (event) => {
    const box = event.target.closest("input, textarea");
    if (!box || !box.dataset.path) return;
    active = box;
    keyboard.setOptions({ inputName: box.dataset.path });
    keyboard.setInput(box.value, box.dataset.path);
  });
  /* Typed on a real keyboard (a kiosk with one) or filled by the reader: keep in step. */
  fields.addEventListener("input", (event) => {
    const box = event.target;
    if (box.dataset && box.dataset.path && keyboard.getInput(box.dataset.path) !== box.value) {
      keyboard.setInput(box.value, box.dataset.path);
    }
  });

  function prefillFromIdCard(card) {
    reading = card;
    if (!form) return;
    form.set("applicant.kind", "person");
    form.set("applicant.name", card.name);
    form.set("applicant.id_number", card.id_number);
    if (card.address) {
      const empty = form.boxes().find((b) => b.dataset.type === "address" && !b.value);
      if (empty) empty.value = card.address;
    }
    form.boxes().forEach((b) => b.dispatchEvent(new Event("input", { bubbles: true })));
  }
  document.addEventListener("hall:id-card", (event) => prefillFromIdCard(event.detail || {}));

  async function loadItems() {
    const codes = [...new Set([...document.querySelectorAll("#services [data-service]")]
      .map((b) => b.dataset.service))];
    for (const code of codes) {
      const { items } = await api("GET", "/services/" + encodeURIComponent(code) + "/items");
      for (const item of items) {
        services[item.code] = item.service;
        picker.append(el("option", { value: item.code }, item.code + " " + name(item)));
      }
    }
  }

  async function draw(code) {
    save.disabled = !code;
    active = null;
    if (!code) { fields.replaceChildren(); form = null; return; }
    const [described] = await window.HallForms.describe([code]);
    form = window.HallForms.build(fields, described.applicant,
      [{ item: described.item, fields: described.fields }], form ? form.values() : null);
    if (reading) prefillFromIdCard(reading);
  }

  function reset() {
    picker.value = "";
    fields.replaceChildren();
    form = null;
    active = null;
    reading = null;
    save.disabled = true;
    keyboard.clearInput();
    keyboard.replaceInput({});
  }

  picker.addEventListener("change", () => draw(picker.value).catch(kiosk.failed));
  document.getElementById("to-form").addEventListener("click", () => kiosk.show("step-form"));
  document.addEventListener("hall:kiosk-reset", reset);

  /* Checked first, so no ticket is taken for a form that would be refused; then the ticket,
     then the form saved as its draft. */
  save.addEventListener("click", async () => {
    if (!form) return;
    const values = form.values();
    const body = { items: [picker.value], applicant: values.applicant, fields: values.fields };
    save.disabled = true;
    try {
      await api("POST", "/forms/check", body);
      const ticket = await api("POST", "/tickets", { service: services[picker.value] });
      await api("PUT", "/tickets/" + ticket.token + "/draft", body);
      reset();
      kiosk.showTicket(ticket);
    } catch (error) {
      if (error.code === "invalid_form" && form.showErrors(error.body.errors)) {
        kiosk.failed({ message: t("Please correct the marked fields") });
      } else {
        kiosk.failed(error);
      }
    } finally {
      save.disabled = !form;
    }
  });

  window.HallKiosk.prefillFromIdCard = prefillFromIdCard;
  loadItems().catch(kiosk.failed);
})();
