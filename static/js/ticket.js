/* The citizen's phone: live place in line, "please go to window 7" once called, then a rating,
   and the case behind the ticket until its result is collected.
   Live two ways: hall events over Socket.IO trigger a refresh, and a 10 s poll covers phones
   whose network drops websockets. A ticket in a final state with nothing left to follow says
   so and stops listening (it does not show "connection lost" for good). */
(function () {
  "use strict";
  const { t, pt, nt, api, joinRoom, showError, minutes, throttle, ticketStatus } = window.Hall;
  const FINAL_NOTES = {
    done: () => t("This ticket is finished; this page no longer updates."),
    no_show: () => t("You missed your call. Back in the hall? Rejoin the queue at the kiosk (scan this ticket's QR code) or at a window."),
    cancelled: () => t("This ticket was cancelled; this page no longer updates."),
  };
  const token = document.getElementById("ticket").dataset.token;
  const FINAL = ["done", "no_show", "cancelled"];
  let ticket = null;
  let socket = null;
  let poll = null;

  function render(next) {
    const wasCalled = ticket && ticket.status === "called";
    ticket = next;
    const status = document.getElementById("status");
    status.textContent = ticketStatus(ticket.status);
    status.className = "status status-" + ticket.status;
    const waiting = ticket.status === "waiting";
    document.getElementById("facts").hidden = !waiting;
    /* A remote ticket is not in the queue until checked in at the kiosk (its QR scanned). */
    const remoteNote = document.getElementById("remote-note");
    remoteNote.hidden = ticket.status !== "remote";
    const remoteQr = document.getElementById("remote-qr");
    if (remoteQr) remoteQr.hidden = ticket.status !== "remote";
    document.getElementById("cancel").hidden = !waiting && ticket.status !== "remote";
    document.getElementById("ahead").textContent = nt("%(num)d person", "%(num)d people", ticket.people_ahead);
    document.getElementById("wait").textContent = minutes(ticket.estimated_wait_minutes);
    const go = document.getElementById("go");
    const atWindow = ticket.status === "called" || ticket.status === "serving";
    go.hidden = !atWindow;
    if (atWindow) go.textContent = t("Please go to window %(w)s", { w: ticket.window });
    if (ticket.status === "called" && !wasCalled && navigator.vibrate) navigator.vibrate([300, 150, 300]);
    /* rate once the service is done; then 追评 while the scheme allows it */
    const rating = ticket.rating;
    document.getElementById("rating-box").hidden = ticket.status !== "done" || Boolean(rating);
    document.getElementById("thanks").hidden = !rating;
    document.getElementById("follow-up").hidden = !(rating && rating.follow_up_open);
    document.getElementById("updated").textContent = new Date().toLocaleTimeString(
      window.HALL_LANG === "en" ? "en-GB" : "zh-CN", { timeZone: window.HALL_TZ });
    renderCase(ticket.case);
    /* Final, and no case result still to come: nothing more will change. A missed ticket
       may still rejoin (at the kiosk or a window), so its page keeps following it. */
    const final = FINAL.includes(ticket.status);
    const note = document.getElementById("final");
    note.hidden = !final;
    if (final) note.textContent = FINAL_NOTES[ticket.status]();
    if (final && ticket.status !== "no_show" && (!ticket.case || ticket.case.handed_over)) stop();
  }

  function renderCase(c) {
    const line = document.getElementById("case");
    if (!line) return;
    line.hidden = !c;
    if (!c) return;
    let state = t("Being approved");
    if (c.handed_over) state = t("Result collected");
    else if (c.result_ready) {
      const notice = { notified: t("you were sent a notice"), sending: t("a notice is being sent") }[c.notice] || t("not notified");
      state = t("Your result is ready at the delivery window") + (c.from_hall ? "" : " · " + notice);
    }
    line.textContent = pt("citizen", "Case number") + " " + c.case_number + " · " + state;
  }

  /* Nothing more will change for this ticket: stop listening (a closed connection is not a
     lost one, so no "reconnecting" badge stays behind). */
  function stop() {
    clearInterval(poll);
    if (socket) socket.disconnect();
    socket = null;
    const offline = document.getElementById("offline");
    if (offline) offline.hidden = true;
  }

  async function refresh() {
    try { render(await api("GET", "/tickets/" + token)); showError(null); } catch (error) { showError(error); }
  }

  /* Every change in the hall may move this ticket; many arrive at once, so refresh at most every 2 s. */
  const soon = throttle(refresh, 2000);
  socket = joinRoom("hall", { snapshot: soon, queue: soon, call: soon, result: soon, missed: soon });
  poll = setInterval(refresh, 10000);
  refresh();

  document.getElementById("cancel").addEventListener("click", async () => {
    if (!window.confirm(t("Leave the queue for good?"))) return;
    try { render(await api("POST", "/tickets/" + token + "/cancel")); } catch (error) { showError(error); }
  });

  const form = document.getElementById("rating");
  window.HallRating.wire(form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const rating = await api("POST", "/tickets/" + token + "/rating", window.HallRating.read(form));
      render({ ...ticket, rating });
      showError(null);
    } catch (error) {
      if (error.code === "already_rated") refresh();
      showError(error);
    }
  });

  const followUp = document.getElementById("follow-up");
  followUp.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const rating = await api("POST", "/tickets/" + token + "/rating/follow-up",
        { text: followUp.querySelector("textarea").value });
      render({ ...ticket, rating });
      showError(null);
    } catch (error) { showError(error); }
  });
})();
