/* Back-office console of one department: approvers see the department's share of each case,
   claim it, then approve it, reject it or ask for a supplement (both with a reason).
   The server decides what is allowed; the buttons only mirror the case's state. */
(function () {
  "use strict";
  const { t, pt, nt, api, showError, el, name } = window.Hall;
  const department = window.Hall.data().department;
  const ACTIONS = [["claim", t("Claim"), ""], ["approve", t("Approve"), "primary"],
    ["supplement", t("Request supplement"), ""], ["reject", t("Reject"), "warn"]];
  const STATUS = { submitted: pt("back office", "waiting"), claimed: t("in review"),
    supplement_requested: t("supplement requested"), approved: t("approved"), rejected: t("rejected") };
  const SOURCE = { paper: t("paper"), e_licence: t("e-licence") };
  const ALLOWED = {
    submitted: ["claim"],
    supplement_requested: ["claim"],
    claimed: ["approve", "supplement", "reject"],
  };

  function itemLine(item) {
    const limit = item.time_limit_days
      ? nt("%(num)d working day", "%(num)d working days", item.time_limit_days) : t("on the spot");
    return el("li", {}, item.code + " " + (name(item) || item.name_zh) + " · " + limit +
      (item.deadline ? " · " + t("Deadline") + " " + item.deadline : ""));
  }

  function materialLine(m) {
    const line = el("li", {}, (name(m) || m.name_zh) + (m.copies > 1 ? " ×" + m.copies : ""));
    if (m.status === "missing") {
      line.className = "missing";
      line.append(" · " + t("Missing") + (m.due_on ? " · " + t("to be supplied by %(d)s", { d: m.due_on }) : ""));
    } else if (m.source) {
      line.append(" · " + SOURCE[m.source] || m.source);
    }
    return line;
  }

  function applicantLine(a) {
    return [a.name, a.id_number, a.phone].filter(Boolean).join(" · ");
  }

  /* The list shows applicants masked; opening one shows it whole (and the server logs it). */
  async function reveal(c, line, button) {
    button.disabled = true;
    try {
      line.textContent = applicantLine((await api("GET", "/backoffice/cases/" + c.id)).applicant || {});
      button.hidden = true;
      showError(null);
    } catch (error) { showError(error); button.disabled = false; }
  }

  function render(c) {
    const a = c.applicant || {};
    const line = el("div", { className: "applicant" }, applicantLine(a));
    const open = el("button", { type: "button", className: "ghost reveal" }, t("Show identity"));
    open.addEventListener("click", () => reveal(c, line, open));
    const reason = el("textarea", { className: "reason", maxLength: 500, placeholder: t("Reason") });
    const buttons = ACTIONS.map(([action, label, style]) => {
      const button = el("button", { type: "button", className: style, disabled: !(ALLOWED[c.status] || []).includes(action) },
        label);
      button.dataset.action = action;
      button.addEventListener("click", () => act(c, action, reason.value, button));
      return button;
    });
    const card = el("article", { className: "case" },
      el("div", { className: "case-head" },
        el("span", { className: "case-number" }, c.case_number),
        el("span", { className: "state-badge status" }, STATUS[c.status] || c.status),
        el("span", { className: "muted" }, c.claimed_by ? t("Claimed by: %(name)s", { name: c.claimed_by }) : t("unclaimed"))),
      el("div", { className: "cols" },
        el("div", {}, el("strong", {}, t("Items")), el("ul", {}, ...(c.items || []).map(itemLine))),
        el("div", {}, el("strong", {}, t("Applicant")), " ", open, line,
          el("strong", {}, t("Materials checklist")), el("ul", {}, ...(c.materials || []).map(materialLine)))),
      c.reason ? el("p", { className: "muted" }, t("Reason: %(reason)s", { reason: c.reason })) : "",
      el("div", { className: "act" }, reason, ...buttons));
    card.dataset.id = String(c.id);
    card.dataset.case = c.case_number;
    card.dataset.status = c.status;
    return card;
  }

  async function load() {
    const { cases } = await api("GET", "/backoffice/" + encodeURIComponent(department) + "/cases");
    document.getElementById("cases").replaceChildren(...cases.map(render));
    document.getElementById("no-cases").hidden = cases.length > 0;
  }

  async function act(c, action, reason, button) {
    button.disabled = true;
    try {
      const body = {};
      if (reason.trim()) body.reason = reason.trim();
      const path = "/backoffice/cases/" + c.id + "/" + action;
      try {
        await api("POST", path, body);
      } catch (error) {
        /* A gap material is still outstanding: approve only when confirmed with a reason. */
        if (error.code !== "gaps_outstanding") throw error;
        const why = body.reason || window.prompt(error.message + "\n" + t("Why approve it anyway?"));
        if (!why || !why.trim() || (body.reason && !window.confirm(error.message))) { showError(error); return; }
        await api("POST", path, { reason: why.trim(), confirm_gaps: true });
      }
      showError(null);
    } catch (error) { showError(error); }
    await load().catch(showError);
  }

  document.getElementById("refresh").addEventListener("click", () => load().catch(showError));
  /* New hand-offs arrive from the dispatcher; refresh unless the approver is typing. */
  setInterval(() => {
    const typing = document.activeElement && document.activeElement.tagName === "TEXTAREA";
    if (!typing) load().catch(showError);
  }, 20000);
  load().catch(showError);
})();
