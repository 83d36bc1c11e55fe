/* The citizen's phone: live place in line, called → which window, then a rating. */
(function () {
  "use strict";
  const { t, api, joinRoom, showError, minutes } = window.Hall;
  const token = document.getElementById("ticket").dataset.token;
  let ticket = null;

  function render(next) {
    ticket = next;
    document.getElementById("status").textContent = t("status_" + ticket.status);
    const waiting = ticket.status === "waiting";
    document.getElementById("facts").hidden = !waiting;
    document.getElementById("cancel").hidden = !waiting;
    document.getElementById("ahead").textContent = ticket.people_ahead + " " + t("persons");
    document.getElementById("wait").textContent = minutes(ticket.estimated_wait_minutes);
    const go = document.getElementById("go");
    const atWindow = ticket.status === "called" || ticket.status === "serving";
    go.hidden = !atWindow;
    if (atWindow) go.textContent = t("please_go", { t: ticket.number, w: ticket.window });
    const rated = document.getElementById("thanks").hidden === false;
    document.getElementById("rating").hidden = ticket.status !== "done" || rated;
  }

  async function refresh() {
    try { render(await api("GET", "/tickets/" + token)); } catch (error) { showError(error); }
  }

  /* Any change in the hall may move this ticket: refresh on queue and call events. */
  joinRoom("hall", { snapshot: refresh, queue: refresh, call: refresh });
  setInterval(refresh, 15000);
  refresh();

  document.getElementById("cancel").addEventListener("click", async () => {
    try { render(await api("POST", "/tickets/" + token + "/cancel")); } catch (error) { showError(error); }
  });

  document.getElementById("rating").addEventListener("submit", async (event) => {
    event.preventDefault();
    const score = document.querySelector("input[name=score]:checked");
    try {
      await api("POST", "/tickets/" + token + "/rating", {
        score: Number(score.value),
        comment: document.getElementById("comment").value || null,
        complaint: document.getElementById("complaint").checked,
      });
      document.getElementById("rating").hidden = true;
      document.getElementById("thanks").hidden = false;
    } catch (error) { showError(error); }
  });
})();
