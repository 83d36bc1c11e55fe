/* The page of the rating link in a result notice: rate each decided item, add to a rating. */
(function () {
  "use strict";
  const { api, showError } = window.Hall;
  const page = document.getElementById("rate-case");
  const base = "/rating-links/" + page.dataset.token + "/items/";

  for (const form of document.querySelectorAll("form.rating-form")) {
    window.HallRating.wire(form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api("POST", base + form.dataset.item + "/rating", window.HallRating.read(form));
        window.location.reload();
      } catch (error) { showError(error); }
    });
  }
  for (const form of document.querySelectorAll("form.follow-up")) {
    form.hidden = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api("POST", base + form.dataset.item + "/follow-up", { text: form.querySelector("textarea").value });
        window.location.reload();
      } catch (error) { showError(error); }
    });
  }
})();
