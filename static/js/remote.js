/* The phone's service guide: take a ticket before coming (where the hall allows it). The
   ticket page it opens tells the citizen to check in at the kiosk by the set time. */
(function () {
  "use strict";
  const { api, showError } = window.Hall;
  const button = document.getElementById("take-remote");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const ticket = await api("POST", "/tickets/remote", { service: button.dataset.service });
      window.location.assign(ticket.status_url);
    } catch (error) { showError(error); button.disabled = false; }
  });
})();
