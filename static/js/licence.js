/* A licence's page, for an approver of its department: revoke it, with a reason. */
(function () {
  "use strict";
  const { t, api, showError } = window.Hall;
  const PAGE = window.Hall.data();
  document.getElementById("revoke").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(null);
    const reason = document.getElementById("reason").value.trim();
    if (!reason) {
      showError(new Error(t("Enter a reason")));
      return;
    }
    if (!window.confirm(t("Revoke licence %(n)s? It cannot be undone.", { n: PAGE.number }))) return;
    try {
      await api("POST", "/backoffice/" + encodeURIComponent(PAGE.department) + "/licences/"
        + encodeURIComponent(PAGE.number) + "/revoke", { reason });
      window.location.reload();
    } catch (error) {
      showError(error);
    }
  });
})();
