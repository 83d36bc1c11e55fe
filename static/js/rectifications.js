/* Rectifications of bad ratings (差评整改): the list, and one in detail — its owner records the
   measures, the call-back and the answer; a manager decides a clerk's appeal. */
(function () {
  "use strict";
  const { t, pt, api, showError, el } = window.Hall;
  const PAGE = window.Hall.data();
  const LEVEL = Object.fromEntries(PAGE.scheme.levels.map((l) => [l.level, l.name]));
  const TAG = Object.fromEntries(PAGE.scheme.tags.map((x) => [x.code, x.name]));
  const APPEAL = { none: t("none"), pending: t("waiting for a decision"), accepted: t("accepted"), rejected: t("rejected") };
  const EVENT = { opened: t("opened"), owner_taken: t("taken by its owner"), rectified: t("measures recorded"),
    called_back: t("called back"), answered: t("answered"), appealed: t("appealed by the clerk"),
    appeal_accepted: t("appeal accepted"), appeal_rejected: t("appeal rejected"), closed: pt("rectification", "closed") };
  const detail = document.getElementById("detail");
  let selected = null;

  function state(r) {
    if (r.status === "closed") return r.on_time ? t("closed on time") : t("closed late");
    return r.overdue ? t("overdue") : t("open");
  }
  const tags = (list) => list.map((code) => TAG[code] || code).join("、") || "—";

  async function list() {
    const status = document.getElementById("status-filter").value;
    try {
      const { rectifications } = await api("GET", "/rectifications" + (status ? "?status=" + status : ""));
      const body = document.querySelector("#rect-list tbody");
      body.replaceChildren(...rectifications.map((r) => {
        const row = el("tr", { className: (r.overdue ? "overdue" : "") + (r.id === selected ? " selected" : "") },
          el("td", {}, String(r.id)), el("td", {}, LEVEL[r.rating.level]), el("td", {}, tags(r.rating.tags)),
          el("td", {}, r.window === null ? "—" : String(r.window)), el("td", {}, r.clerk || "—"),
          el("td", {}, r.owner || t("unassigned")), el("td", {}, r.due_on), el("td", {}, state(r)),
          el("td", {}, APPEAL[r.appeal.status]));
        row.dataset.id = r.id;
        row.addEventListener("click", () => show(r.id));
        return row;
      }));
      document.getElementById("none").hidden = rectifications.length > 0;
      showError(null);
    } catch (error) { showError(error); }
  }

  function textStep(title, done, value, step, r, extra) {
    const box = el("section", { className: "step-" + step }, el("h3", {}, title));
    if (done) {
      box.append(el("p", {}, value || "—"));
      return box;
    }
    if (r.status !== "open" || (r.owner && r.owner !== PAGE.me)) {
      box.append(el("p", { className: "muted" }, t("Not yet recorded")));
      return box;
    }
    const area = el("textarea", { maxLength: 1000 });
    const button = el("button", { type: "button", className: "tile small primary" }, t("Record"));
    box.append(...(extra ? extra.fields : []), area, button);
    button.addEventListener("click", () => act(r.id, step, { text: area.value || null, ...(extra ? extra.body() : {}) }));
    return box;
  }

  function render(r) {
    selected = r.id;
    const rating = r.rating;
    const facts = el("dl", {},
      el("dt", {}, t("Rating")), el("dd", {}, LEVEL[rating.level] + (rating.excluded ? " · " + t("appeal accepted: not in the clerk's figures") : "")),
      el("dt", {}, t("Reasons")), el("dd", {}, tags(rating.tags)),
      el("dt", {}, t("Comment")), el("dd", {}, rating.comment || "—"),
      el("dt", {}, t("Added later")), el("dd", {}, rating.follow_up || "—"),
      el("dt", {}, t("Case")), el("dd", {}, r.case_number || "—"),
      el("dt", {}, t("Citizen")), el("dd", { id: "citizen" }, [r.citizen.name, r.citizen.phone].filter(Boolean).join(" ") || t("unknown")),
      el("dt", {}, t("Owner")), el("dd", {}, r.owner || t("unassigned")),
      el("dt", {}, t("Due")), el("dd", {}, r.due_on + " · " + state(r)));
    detail.replaceChildren(el("h2", {}, t("Rectification %(n)s", { n: r.id })), facts);
    if (r.citizen.phone && (!r.owner || r.owner === PAGE.me)) {
      const reveal = el("button", { type: "button", className: "ghost", id: "reveal" }, t("Show the phone number for the call-back"));
      reveal.addEventListener("click", async () => {
        try {
          const c = await api("GET", "/rectifications/" + r.id + "/contact");
          document.getElementById("citizen").textContent = [c.name, c.phone].filter(Boolean).join(" ");
          reveal.remove();
        } catch (error) { showError(error); }
      });
      detail.append(reveal);
    }
    detail.append(textStep(t("Measures"), Boolean(r.rectified_at), r.measures, "rectify", r));
    const yes = el("input", { type: "radio", name: "reached", value: "yes" });
    const no = el("input", { type: "radio", name: "reached", value: "no" });
    const reached = { fields: [el("label", { className: "check" }, yes, " ", t("Citizen reached")),
      el("label", { className: "check" }, no, " ", t("Not reached"))],
    body: () => ({ reached: yes.checked ? true : (no.checked ? false : null) }) };
    const callBack = r.call_back ? (r.call_back.reached ? t("Citizen reached") : t("Not reached")) + (r.call_back.note ? ": " + r.call_back.note : "") : null;
    detail.append(textStep(t("Call-back"), Boolean(r.call_back), callBack, "call-back", r, reached));
    detail.append(textStep(t("Answer to the citizen"), Boolean(r.answered_at), r.answer, "answer", r));

    const appeal = el("section", { className: "appeal" }, el("h3", {}, t("Appeal")), el("p", {}, APPEAL[r.appeal.status]));
    if (r.appeal.status !== "none") {
      appeal.append(el("p", {}, t("Reason") + ": " + r.appeal.reason), el("p", {}, t("Evidence") + ": " + r.appeal.evidence));
    }
    if (r.appeal.note) appeal.append(el("p", {}, t("Decision") + ": " + r.appeal.note + " (" + r.appeal.decided_by + ")"));
    if (r.appeal.status === "pending") {
      const note = el("textarea", { maxLength: 500, placeholder: t("Reason for the decision") });
      const accept = el("button", { type: "button", className: "tile small primary" }, t("Accept the appeal"));
      const reject = el("button", { type: "button", className: "tile small warn" }, t("Reject the appeal"));
      accept.addEventListener("click", () => decide(r.id, "accept", note.value));
      reject.addEventListener("click", () => decide(r.id, "reject", note.value));
      appeal.append(note, accept, reject);
    }
    detail.append(appeal);
    const trail = el("section", {}, el("h3", {}, t("History")));
    trail.append(el("ol", {}, ...(r.events || []).map((e) => el("li", {},
      new Date(e.at).toLocaleString(window.HALL_LANG === "en" ? "en-GB" : "zh-CN", { timeZone: window.HALL_TZ }) + " · " + (EVENT[e.kind] || e.kind) + (e.actor ? " · " + e.actor : "")))));
    detail.append(trail);
    detail.hidden = false;
  }

  async function show(id) {
    try { render(await api("GET", "/rectifications/" + id)); showError(null); list(); } catch (error) { showError(error); }
  }
  async function act(id, step, body) {
    try { render(await api("POST", "/rectifications/" + id + "/" + step, body)); showError(null); list(); } catch (error) { showError(error); }
  }
  async function decide(id, decision, note) {
    try { render(await api("POST", "/rectifications/" + id + "/appeal/" + decision, { note })); showError(null); list(); } catch (error) { showError(error); }
  }

  document.getElementById("status-filter").addEventListener("change", list);
  list();
})();
