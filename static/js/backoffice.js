/* Back-office console of one department: approvers see the department's share of each case,
   claim it, then approve it, reject it or ask for a supplement (both with a reason).
   The server decides what is allowed; the buttons only mirror the case's state. */
(function () {
  "use strict";
  const { t, api, showError, el } = window.Hall;
  const department = window.BACKOFFICE.department;
  const ACTIONS = [["claim", ""], ["approve", "primary"], ["supplement", ""], ["reject", "warn"]];
  const ALLOWED = {
    submitted: ["claim"],
    supplement_requested: ["claim"],
    claimed: ["approve", "supplement", "reject"],
  };
  const approver = document.getElementById("approver");
  approver.value = localStorage.getItem("hall.approver") || "";
  approver.addEventListener("change", () => localStorage.setItem("hall.approver", approver.value.trim()));

  function itemLine(item) {
    const limit = item.time_limit_days ? t("working_days", { n: item.time_limit_days }) : t("on_the_spot");
    return el("li", {}, item.code + " " + item.name_zh + " · " + limit +
      (item.deadline ? " · " + t("deadline") + " " + item.deadline : ""));
  }

  function materialLine(m) {
    const line = el("li", {}, m.name_zh + (m.copies > 1 ? " ×" + m.copies : ""));
    if (m.status === "missing") {
      line.className = "missing";
      line.append(" · " + t("missing_materials") + (m.due_on ? " · " + t("due_by", { d: m.due_on }) : ""));
    } else if (m.source) {
      line.append(" · " + t("source_" + m.source));
    }
    return line;
  }

  function render(c) {
    const a = c.applicant || {};
    const reason = el("textarea", { className: "reason", maxLength: 500, placeholder: t("reason") });
    const buttons = ACTIONS.map(([action, style]) => {
      const button = el("button", { type: "button", className: style, disabled: !(ALLOWED[c.status] || []).includes(action) },
        t(action === "supplement" ? "request_supplement" : action));
      button.dataset.action = action;
      button.addEventListener("click", () => act(c, action, reason.value, button));
      return button;
    });
    const card = el("article", { className: "case" },
      el("div", { className: "case-head" },
        el("span", { className: "case-number" }, c.case_number),
        el("span", { className: "state-badge status" }, t("console_" + c.status)),
        el("span", { className: "muted" }, c.claimed_by ? t("claimed_by") + "：" + c.claimed_by : t("unclaimed"))),
      el("div", { className: "cols" },
        el("div", {}, el("strong", {}, t("items")), el("ul", {}, ...(c.items || []).map(itemLine))),
        el("div", {}, el("strong", {}, t("applicant")),
          el("div", {}, [a.name, a.id_number, a.phone].filter(Boolean).join(" · ")),
          el("strong", {}, t("materials_checklist")), el("ul", {}, ...(c.materials || []).map(materialLine)))),
      c.reason ? el("p", { className: "muted" }, t("reason") + "：" + c.reason) : "",
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
    const who = approver.value.trim();
    if (!who) {
      showError({ code: "actor_required", message: t("approver_hint") });
      approver.focus();
      return;
    }
    localStorage.setItem("hall.approver", who);
    button.disabled = true;
    try {
      const body = { approver: who };
      if (reason.trim()) body.reason = reason.trim();
      await api("POST", "/backoffice/cases/" + c.id + "/" + action, body);
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
