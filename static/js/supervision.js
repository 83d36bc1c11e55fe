/* Electronic supervision: the page is drawn by the server; this only sends an extension
   (days and reason; the one granting it is the one logged in) and shows the page again. */
(function () {
  "use strict";
  const { t, api, showError } = window.Hall;
  document.querySelectorAll("form.extend").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        await api("POST", "/supervision/" + encodeURIComponent(form.dataset.department) +
          "/items/" + form.dataset.item + "/extensions",
          { days: Number(form.elements.days.value), reason: form.elements.reason.value });
        form.replaceChildren(t("Extended; the card follows within a few minutes."));
        setTimeout(() => window.location.reload(), 1500);
      } catch (error) {
        showError(error);
        button.disabled = false;
      }
    });
  });
})();
