/* Kiosk: zone → service → ticket, or appointment check-in, collecting a result, filling in an
   application form, rating a finished service (the ticket's QR code scanned), or a missed
   ticket rejoining the queue, or a ticket taken on the phone checked in (its QR scanned);
   back to the start when idle. A resident ID typed (or typed by a keyboard-wedge ID-card
   reader: 18 characters and Enter) goes with the ticket; the server gives the elderly priority.
   Service buttons show each service's waiting count and estimate, refreshed while shown. */
(function () {
  "use strict";
  const { t, nt, api, showError, minutes } = window.Hall;
  const steps = ["step-zone", "step-service", "step-checkin", "step-collect", "step-form", "step-rate",
    "step-rejoin", "step-remote", "step-ticket"];
  const IDLE_SECONDS = { "step-service": 60, "step-checkin": 90, "step-collect": 90, "step-form": 240,
    "step-rate": 90, "step-rejoin": 90, "step-remote": 90, "step-ticket": 30 };
  /* The kiosk is shared: a citizen who switched to English hands the next one a Chinese kiosk. */
  const ENGLISH = window.HALL_LANG === "en";
  if (ENGLISH) IDLE_SECONDS["step-zone"] = 60;
  let idleTimer = null;
  let deadline = 0;

  function show(step) {
    for (const id of steps) document.getElementById(id).hidden = id !== step;
    showError(null);
    clearInterval(idleTimer);
    document.getElementById("countdown").textContent = "";
    if (IDLE_SECONDS[step]) {
      deadline = Date.now() + IDLE_SECONDS[step] * 1000;
      idleTimer = setInterval(() => {
        const left = Math.ceil((deadline - Date.now()) / 1000);
        if (step === "step-ticket") document.getElementById("countdown").textContent = t("Back to the start in %(s)s s", { s: left });
        if (left <= 0) reset();
      }, 1000);
    }
  }

  function back() {
    document.querySelector("input[name=priority][value=normal]").checked = true;
    document.getElementById("code").value = "";
    residentId.value = "";
    document.getElementById("id-read").hidden = true;
    /* A form typed here is the citizen's: nothing of it stays for the next one. */
    document.dispatchEvent(new CustomEvent("hall:kiosk-reset"));
    document.getElementById("rate-slip").value = "";
    document.getElementById("kiosk-rating").reset();
    document.querySelector("#kiosk-rating .tags").hidden = true;
    document.getElementById("rate-box").hidden = true;
    document.getElementById("rate-find").hidden = false;
    document.getElementById("rate-thanks").hidden = true;
    show("step-zone");
  }

  /* Idle or done: the next citizen starts from the beginning, in Chinese. */
  function reset() {
    if (ENGLISH) location.replace(location.pathname + "?lang=zh");
    else back();
  }

  /* Any touch on a step gives the citizen the full time again. */
  document.addEventListener("pointerdown", () => {
    const step = steps.find((id) => !document.getElementById(id).hidden);
    if (IDLE_SECONDS[step]) deadline = Date.now() + IDLE_SECONDS[step] * 1000;
  });

  function showTicket(ticket) {
    document.getElementById("guide").href = window.Hall.url("/guide/" + ticket.service);
    document.getElementById("ticket-number").textContent = ticket.number;
    document.getElementById("ticket-service").textContent =
      window.HALL_LANG === "en" ? ticket.service_name_en : ticket.service_name_zh;
    const priority = document.getElementById("ticket-priority");
    const notes = [];
    if (ticket.priority_reason === "age") notes.push(t("Green channel: priority for senior citizens"));
    if (ticket.resident_id) notes.push(t("Resident ID %(id)s", { id: ticket.resident_id }));
    priority.textContent = notes.join(" · ");
    priority.hidden = notes.length === 0;
    document.getElementById("ahead").textContent = nt("%(num)d person", "%(num)d people", ticket.people_ahead);
    document.getElementById("wait").textContent = minutes(ticket.estimated_wait_minutes);
    document.getElementById("qr").src = ticket.qr_url;
    document.getElementById("print").dataset.url = ticket.print_url;
    show("step-ticket");
  }

  function failed(error) {
    if (error.code === "hall_closed") {
      document.getElementById("closed").hidden = false;
      back();
    }
    showError(error);
  }

  /* Waiting count and estimate per service, from the public queue snapshot (the same
     figures the screens show); refreshed while the service step is on screen. */
  async function refreshQueue() {
    try {
      const { services } = await api("GET", "/queue");
      for (const s of services) {
        const info = document.querySelector(`#services [data-service="${s.code}"] [data-queue-info]`);
        if (info) info.textContent = t("%(n)s waiting · %(wait)s", { n: s.waiting, wait: minutes(s.estimated_wait_minutes) });
      }
    } catch (error) { /* the buttons keep their last figures */ }
  }
  setInterval(() => { if (!document.getElementById("step-service").hidden) refreshQueue(); }, 15000);

  document.querySelectorAll("#step-zone [data-zone]").forEach((button) =>
    button.addEventListener("click", () => {
      const zone = button.dataset.zone;
      document.querySelectorAll("#services [data-service]").forEach((s) => {
        s.hidden = s.dataset.zone !== zone;
      });
      show("step-service");
      refreshQueue();
      residentId.focus();
    }));

  /* A kiosk with its own ESC/POS printer takes tickets through /kiosk/tickets: the server
     asks the paper sensor first and prints the slip; out of paper, no ticket is issued. */
  const serviceStep = document.getElementById("step-service");
  const ESCPOS = serviceStep.dataset.printer === "escpos";
  const smsPhone = document.getElementById("sms-phone");
  function paperOut(out) {
    document.getElementById("paper-out").hidden = !out;
    document.querySelectorAll("#services [data-service]").forEach((b) => { b.disabled = out; });
  }
  async function checkPaper() {
    try { paperOut((await api("GET", "/kiosk/printer")).paper === "out"); } catch (error) { /* next time */ }
  }
  if (ESCPOS) { checkPaper(); setInterval(checkPaper, 30000); }

  async function leavePhone(ticket) {
    const note = document.getElementById("sms-left");
    note.hidden = true;
    const phone = smsPhone ? smsPhone.value.trim() : "";
    if (smsPhone) smsPhone.value = "";
    if (!phone) return;
    try {
      const state = await api("PUT", "/tickets/" + ticket.token + "/phone", { phone });
      note.textContent = t("We will text %(p)s when %(n)s people are ahead and when you are called",
        { p: state.phone, n: state.notify_ahead });
      note.hidden = false;
    } catch (error) { showError(error); }
  }

  const residentId = document.getElementById("resident-id");
  const ID_PATTERN = /^[0-9]{17}[0-9X]$/;
  function typedId() { return residentId.value.trim().toUpperCase(); }

  async function take(service) {
    const priority = document.querySelector("input[name=priority]:checked").value;
    const body = { service, priority };
    if (typedId()) {
      if (!ID_PATTERN.test(typedId())) { showError(new Error(t("A resident ID number has 17 digits and a final digit or X"))); return; }
      body.resident_id = typedId();
    }
    try {
      const ticket = await api("POST", ESCPOS ? "/kiosk/tickets" : "/tickets", body);
      showTicket(ticket);
      document.getElementById("printed").hidden = !ticket.printed;
      document.getElementById("not-printed").hidden = !ESCPOS || ticket.printed;
      document.getElementById("print").hidden = ESCPOS;
      await leavePhone(ticket);
    } catch (error) {
      if (error.code === "printer_out_of_paper") paperOut(true);
      throw error;
    }
  }

  document.querySelectorAll("#services [data-service]").forEach((button) =>
    button.addEventListener("click", async () => {
      button.disabled = true;
      try { await take(button.dataset.service); } catch (error) { failed(error); } finally {
        button.disabled = document.getElementById("paper-out").hidden === false;
      }
    }));

  /* Enter after the ID (the reader sends it): one service in the zone takes it at once,
     otherwise the citizen picks the service. */
  document.getElementById("by-id").addEventListener("submit", async (event) => {
    event.preventDefault();
    const read = document.getElementById("id-read");
    if (!ID_PATTERN.test(typedId())) {
      read.hidden = true;
      showError(new Error(t("A resident ID number has 17 digits and a final digit or X")));
      return;
    }
    showError(null);
    const id = typedId();
    read.textContent = t("ID %(id)s read: choose a service", { id: id[0] + "*".repeat(16) + id[17] });
    read.hidden = false;
    const shown = [...document.querySelectorAll("#services [data-service]")].filter((b) => !b.hidden);
    if (shown.length === 1) {
      try { await take(shown[0].dataset.service); } catch (error) { failed(error); }
    }
  });
  /* The same ID-card hook as the form step (kiosk_form.js): on the service step a reading
     fills the ID box as if typed. */
  document.addEventListener("hall:id-card", (event) => {
    const number = event.detail && event.detail.id_number;
    if (!number || document.getElementById("step-service").hidden) return;
    residentId.value = number;
    document.getElementById("by-id").requestSubmit();
  });

  document.getElementById("to-checkin").addEventListener("click", () => show("step-checkin"));

  const code = document.getElementById("code");
  document.querySelectorAll("[data-key]").forEach((key) =>
    key.addEventListener("click", () => {
      const k = key.dataset.key;
      if (k === "clear") code.value = "";
      else if (k === "delete") code.value = code.value.slice(0, -1);
      else if (code.value.length < 6) code.value += k;
    }));

  document.getElementById("checkin").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      showTicket(await api("POST", "/appointments/" + encodeURIComponent(code.value.trim()) + "/check-in"));
      code.value = "";
    } catch (error) { failed(error); }
  });

  document.getElementById("to-collect").addEventListener("click", () => show("step-collect"));
  document.getElementById("collect").addEventListener("submit", async (event) => {
    event.preventDefault();
    const caseNumber = document.getElementById("case-number");
    const last4 = document.getElementById("phone-last4");
    try {
      showTicket(await api("POST", "/deliveries/check-in",
        { case_number: caseNumber.value.trim(), phone_last4: last4.value.trim() }));
      caseNumber.value = "";
      last4.value = "";
    } catch (error) { failed(error); }
  });

  /* Rating at the kiosk: the scanner types the ticket's QR code (its status page's address);
     the kiosk is a device, so the server records the channel as the kiosk. */
  let rateToken = null;
  const rating = document.getElementById("kiosk-rating");
  window.HallRating.wire(rating);
  document.getElementById("to-rate").addEventListener("click", () => {
    show("step-rate");
    document.getElementById("rate-slip").focus();
  });
  document.getElementById("rate-find").addEventListener("submit", async (event) => {
    event.preventDefault();
    const scanned = document.getElementById("rate-slip").value.trim();
    const match = scanned.match(/\/t\/([A-Za-z0-9_-]+)/);
    try {
      const ticket = await api("GET", "/tickets/" + encodeURIComponent(match ? match[1] : scanned));
      if (ticket.status !== "done") throw new Error(t("Only a finished service can be rated"));
      if (ticket.rating) throw new Error(t("This service has already been rated"));
      rateToken = ticket.token;
      document.getElementById("rate-ticket").textContent = t("Please rate this service") + " · " + ticket.number;
      document.getElementById("rate-find").hidden = true;
      document.getElementById("rate-box").hidden = false;
      showError(null);
    } catch (error) { failed(error); }
  });
  rating.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/tickets/" + rateToken + "/rating", window.HallRating.read(rating));
      document.getElementById("rate-box").hidden = true;
      document.getElementById("rate-thanks").hidden = false;
      setTimeout(reset, 4000);
    } catch (error) { failed(error); }
  });

  /* A missed ticket rejoins with its number and its QR code: a scanner types the ticket's
     status link into the focused field (the server takes the token from it). */
  document.getElementById("to-rejoin").addEventListener("click", () => {
    show("step-rejoin");
    document.getElementById("rejoin-number").focus();
  });
  document.getElementById("rejoin-number").addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); document.getElementById("rejoin-token").focus(); }
  });
  document.getElementById("rejoin").addEventListener("submit", async (event) => {
    event.preventDefault();
    const number = document.getElementById("rejoin-number");
    const token = document.getElementById("rejoin-token");
    try {
      showTicket(await api("POST", "/tickets/rejoin",
        { number: number.value.trim().toUpperCase(), token: token.value.trim() }));
      number.value = "";
      token.value = "";
    } catch (error) { failed(error); }
  });

  /* A ticket taken on the phone checks in here: the scanner types its QR code (the status
     link) into the focused field; from now on it waits in the queue. */
  const remoteButton = document.getElementById("to-remote");
  if (remoteButton) remoteButton.addEventListener("click", () => {
    show("step-remote");
    document.getElementById("remote-token").focus();
  });
  document.getElementById("remote-checkin").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = document.getElementById("remote-token");
    try {
      showTicket(await api("POST", "/tickets/check-in", { token: token.value.trim() }));
      token.value = "";
    } catch (error) { failed(error); }
  });

  /* The slip prints from a frame on this page, so the kiosk never leaves its own screen. */
  document.getElementById("print").addEventListener("click", (event) => {
    document.getElementById("printer").src = event.currentTarget.dataset.url;
  });

  document.querySelectorAll("[data-back]").forEach((b) => b.addEventListener("click", back));
  window.HallKiosk = { show, showTicket, failed };
  document.getElementById("again").addEventListener("click", reset);
  show("step-zone");
})();
