/* Hand-off outbox (admin): every message to an approval back-end, its tries and last error;
   a dead letter can be sent again once the department's system is back. */
(function () {
  "use strict";
  const { t, pt, api, showError, el } = window.Hall;
  const departments = Object.fromEntries(window.Hall.data().departments.map((d) => [d.code, d.name_zh]));
  const MESSAGE_STATUS = { pending: t("pending"), delivered: pt("hand-off message", "delivered"),
    dead: t("dead letter") };
  const status = new URLSearchParams(window.location.search).get("status") || "";

  function time(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString(window.HALL_LANG === "en" ? "en-GB" : "zh-CN",
      { timeZone: window.HALL_TZ, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function row(m) {
    const action = el("td");
    if (m.status === "dead") {
      const button = el("button", { type: "button", className: "primary" }, t("Resend"));
      button.dataset.resend = String(m.id);
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await api("POST", "/outbox/" + m.id + "/resend");
          showError(null);
        } catch (error) { showError(error); }
        await load().catch(showError);
      });
      action.append(button);
    }
    const tr = el("tr", {},
      el("td", {}, String(m.id)),
      el("td", {}, m.case_number),
      el("td", {}, departments[m.department] || m.department),
      el("td", {}, (m.items || []).join("、")),
      el("td", { className: "msg-status" }, (MESSAGE_STATUS[m.status] || m.status) + (m.adapter ? " · " + m.adapter : "")),
      el("td", { className: "num" }, String(m.attempts)),
      el("td", {}, time(m.next_attempt_at)),
      el("td", { className: "error-text" }, m.last_error || ""),
      el("td", {}, time(m.created_at)),
      action);
    tr.dataset.id = String(m.id);
    tr.dataset.status = m.status;
    return tr;
  }

  async function load() {
    const data = await api("GET", "/outbox" + (status ? "?status=" + encodeURIComponent(status) : ""));
    document.querySelector("#messages tbody").replaceChildren(...data.messages.map(row));
    document.getElementById("no-messages").hidden = data.messages.length > 0;
    const total = Object.values(data.counts).reduce((a, b) => a + b, 0);
    document.querySelectorAll("#filters a").forEach((a) => {
      const key = a.dataset.status;
      a.classList.toggle("current", key === status);
      a.querySelector(".count").textContent = "(" + (key ? data.counts[key] || 0 : total) + ")";
    });
  }

  setInterval(() => load().catch(showError), 10000);
  load().catch(showError);
})();
