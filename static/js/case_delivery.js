/* Clerk console: where a case's result goes. Look a case up by its number; a result by post
   that is ready is mailed here (the tracking number recorded, the citizen told by the notice
   job); before the result left, the citizen's change of mind is recorded here, by this
   clerk. The server checks everything again. */
(function () {
  "use strict";
  const { t, api, showError, el } = window.Hall;
  const STATES = {
    not_ready: t("being approved"), ready: t("ready"), sending: t("being sent to the other hall"),
    at_other_hall: t("waiting at the other hall"), mailed: t("mailed"), handed_over: t("handed over"),
  };
  const MODES = { hall: t("Collected at this hall"), other_hall: t("Collected at another hall"),
    post: t("By post") };
  let number = null;

  function hallName(h) {
    return h ? (window.HALL_LANG === "zh" ? h.name_zh : h.name_en) : "";
  }

  function render(view) {
    const d = view.delivery;
    number = view.case_number;
    const parts = [view.case_number, MODES[d.mode], hallName(d.hall),
      d.address ? d.address.address + " " + d.address.postcode : "", STATES[d.state]];
    if (d.tracking_number) parts.push(t("Tracking number") + " " + d.tracking_number);
    if (d.handed_over_hall) parts.push(hallName(d.handed_over_hall));
    document.getElementById("delivery-state").replaceChildren(
      el("span", {}, parts.filter(Boolean).join(" · ")));
    document.getElementById("mailing").hidden = !(d.mode === "post" && d.state === "ready");
    document.getElementById("delivery-change").hidden =
      ["mailed", "handed_over", "at_other_hall"].includes(d.state);
  }

  async function find(event) {
    event.preventDefault();
    showError(null);
    const typed = document.getElementById("delivery-case").value.trim().toUpperCase();
    try { render(await api("GET", "/cases/" + encodeURIComponent(typed))); } catch (error) { showError(error); }
  }

  async function mail(event) {
    event.preventDefault();
    showError(null);
    try {
      render(await api("POST", "/cases/" + encodeURIComponent(number) + "/mailing",
        { tracking_number: document.getElementById("tracking-number").value.trim() }));
    } catch (error) { showError(error); }
  }

  async function change(event) {
    event.preventDefault();
    showError(null);
    const mode = document.getElementById("change-mode").value;
    const body = { mode };
    if (mode === "other_hall") body.hall = document.getElementById("change-hall").value;
    if (mode === "post") {
      body.address = document.getElementById("change-address").value.trim();
      body.postcode = document.getElementById("change-postcode").value.trim();
    }
    const reason = document.getElementById("change-reason").value.trim();
    if (reason) body.reason = reason;
    try {
      render(await api("POST", "/cases/" + encodeURIComponent(number) + "/delivery", body));
    } catch (error) { showError(error); }
  }

  document.getElementById("delivery-find").addEventListener("submit", find);
  document.getElementById("mailing").addEventListener("submit", mail);
  document.getElementById("delivery-change").addEventListener("submit", change);
})();
