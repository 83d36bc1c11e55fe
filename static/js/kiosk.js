/* Kiosk: zone → service → ticket, plus appointment check-in. */
(function () {
  "use strict";
  const { t, api, showError, minutes } = window.Hall;
  const steps = ["step-zone", "step-service", "step-ticket"];
  let resetTimer = null;

  function show(step) {
    for (const id of steps) document.getElementById(id).hidden = id !== step;
    showError(null);
  }

  function showTicket(ticket) {
    document.getElementById("ticket-number").textContent = ticket.number;
    document.getElementById("ticket-service").textContent =
      window.HALL_LANG === "en" ? ticket.service_name_en : ticket.service_name_zh;
    document.getElementById("ahead").textContent = ticket.people_ahead + " " + t("persons");
    document.getElementById("wait").textContent = minutes(ticket.estimated_wait_minutes);
    document.getElementById("qr").src = ticket.qr_url;
    document.getElementById("print").href = ticket.print_url;
    show("step-ticket");
    clearTimeout(resetTimer);
    resetTimer = setTimeout(() => show("step-zone"), 60000);
  }

  function failed(error) {
    if (error.code === "hall_closed") document.getElementById("closed").hidden = false;
    showError(error);
  }

  document.querySelectorAll("[data-zone]:not([data-service])").forEach((button) =>
    button.addEventListener("click", () => {
      const zone = button.dataset.zone;
      document.querySelectorAll("#services [data-service]").forEach((s) => {
        s.hidden = s.dataset.zone !== zone;
      });
      show("step-service");
    }));

  document.querySelectorAll("#services [data-service]").forEach((button) =>
    button.addEventListener("click", async () => {
      const priority = document.querySelector("input[name=priority]:checked").value;
      try {
        showTicket(await api("POST", "/tickets", { service: button.dataset.service, priority }));
      } catch (error) { failed(error); }
    }));

  document.getElementById("checkin").addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = document.getElementById("code").value.trim();
    try {
      showTicket(await api("POST", "/appointments/" + encodeURIComponent(code) + "/check-in"));
    } catch (error) { failed(error); }
  });

  document.getElementById("back").addEventListener("click", () => show("step-zone"));
  document.getElementById("again").addEventListener("click", () => show("step-zone"));
})();
