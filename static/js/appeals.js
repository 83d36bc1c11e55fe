/* The clerk's bad ratings and the appeal form (申诉): reason and evidence, once per rating. */
(function () {
  "use strict";
  const { t, api, showError, el } = window.Hall;
  const PAGE = window.Hall.data();
  const LEVEL = Object.fromEntries(PAGE.scheme.levels.map((l) => [l.level, l.name]));
  const TAG = Object.fromEntries(PAGE.scheme.tags.map((x) => [x.code, x.name]));
  const APPEAL = { none: t("not appealed"), pending: t("appeal waiting for a decision"), accepted: t("appeal accepted"), rejected: t("appeal rejected") };
  const number = document.getElementById("appeals").dataset.window;
  const base = "/windows/" + number + "/rectifications";

  function item(r) {
    const when = new Date(r.rating.at).toLocaleString(window.HALL_LANG === "en" ? "en-GB" : "zh-CN", { timeZone: window.HALL_TZ });
    const li = el("li", { className: "panel", id: "rect-" + r.id },
      el("strong", {}, LEVEL[r.rating.level]), " · ", when, " · ",
      r.rating.tags.map((c) => TAG[c] || c).join("、"),
      el("p", {}, r.rating.comment || ""),
      el("p", { className: "muted" }, APPEAL[r.appeal.status] + (r.appeal.note ? ": " + r.appeal.note : "")));
    if (r.appeal.status === "none" && r.status === "open") {
      const reason = el("textarea", { maxLength: 1000, placeholder: t("Why the rating is unfounded"), name: "reason" });
      const evidence = el("textarea", { maxLength: 2000, placeholder: t("Evidence: records, notices, witnesses"), name: "evidence" });
      const send = el("button", { type: "button", className: "tile small" }, t("Appeal"));
      send.addEventListener("click", async () => {
        try {
          await api("POST", base + "/" + r.id + "/appeal", { reason: reason.value, evidence: evidence.value });
          load();
        } catch (error) { showError(error); }
      });
      li.append(reason, evidence, send);
    }
    return li;
  }

  async function load() {
    try {
      const { rectifications } = await api("GET", base);
      document.getElementById("list").replaceChildren(...rectifications.map(item));
      document.getElementById("none").hidden = rectifications.length > 0;
      showError(null);
    } catch (error) { showError(error); }
  }
  load();
})();
