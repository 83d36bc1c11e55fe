/* The pad beside a window: offers the service just finished there for a rating, then resets. */
(function () {
  "use strict";
  const { api, joinRoom, showError } = window.Hall;
  const number = document.getElementById("pad").dataset.window;
  const form = document.getElementById("rating");
  let token = null;

  async function refresh() {
    try {
      const { ticket } = await api("GET", "/windows/" + number + "/rating-pad");
      token = ticket ? ticket.token : null;
      form.hidden = !ticket;
      document.getElementById("idle").hidden = Boolean(ticket);
      if (ticket) document.getElementById("pad-ticket").textContent = ticket.number;
      showError(null);
    } catch (error) { showError(error); }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const score = form.querySelector("input[name=score]:checked");
    try {
      await api("POST", "/tickets/" + token + "/rating", {
        score: Number(score.value),
        complaint: document.getElementById("complaint").checked,
        source: "window_pad",
      });
      form.reset();
      document.getElementById("thanks").hidden = false;
      setTimeout(() => { document.getElementById("thanks").hidden = true; refresh(); }, 4000);
      form.hidden = true;
    } catch (error) { showError(error); }
  });

  /* The window's own room tells the pad when a service there finishes. */
  joinRoom("window:" + number, { window: refresh, snapshot: refresh });
  refresh();
})();
