/* The pad beside a window: offers the service just finished there for a rating, then resets. */
(function () {
  "use strict";
  const { api, joinRoom, showError } = window.Hall;
  const number = document.getElementById("pad").dataset.window;
  const form = document.getElementById("rating");
  const box = document.getElementById("rating-box");
  window.HallRating.wire(form);
  let token = null;

  async function refresh() {
    try {
      const { ticket } = await api("GET", "/windows/" + number + "/rating-pad");
      token = ticket ? ticket.token : null;
      box.hidden = !ticket;
      document.getElementById("idle").hidden = Boolean(ticket);
      if (ticket) document.getElementById("pad-ticket").textContent = ticket.number;
      showError(null);
    } catch (error) { showError(error); }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      /* the server knows this is the window's pad: the channel is not the page's to say */
      await api("POST", "/tickets/" + token + "/rating", window.HallRating.read(form));
      form.reset();
      form.querySelector(".tags").hidden = true;
      document.getElementById("thanks").hidden = false;
      setTimeout(() => { document.getElementById("thanks").hidden = true; refresh(); }, 4000);
      box.hidden = true;
    } catch (error) { showError(error); }
  });

  /* The window's own room tells the pad when a service there finishes. */
  joinRoom("window:" + number, { window: refresh, snapshot: refresh });
  refresh();
})();
