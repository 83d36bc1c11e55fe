/* Call screen: the current call very large, recent calls, waiting per service; chime and speech.
   Calls are deduplicated by `seq`, so a call seen both live and in a snapshot shows once. */
(function () {
  "use strict";
  const { t, joinRoom, name, el } = window.Hall;
  const root = document.getElementById("screen");
  const room = root.dataset.room;
  const [kind, key] = room.split(":");
  const windows = window.Hall.data().windows || [];
  const seen = new Set();
  const KEEP = 12;
  let calls = [];
  let soundOn = false;

  function shownServices(queue) {
    if (kind === "zone") return queue.services.filter((s) => s.zone === key);
    if (kind === "window") {
      const mine = (windows.find((w) => String(w.number) === key) || { services: [] }).services;
      return queue.services.filter((s) => mine.includes(s.code));
    }
    return queue.services;
  }

  function render(fresh) {
    const current = calls[0];
    const box = document.getElementById("current");
    const sentence = document.getElementById("sentence");
    box.replaceChildren();
    if (current) {
      const target = el("div", { className: "target" },
        el("span", { className: "arrow" }, "→"),
        el("span", { className: "win" }, t("Window %(n)s", { n: current.window })));
      if (current.recall) target.append(el("span", { className: "recall" }, t("again")));
      box.append(el("span", { className: "num" }, current.ticket), target);
      box.dataset.seq = current.seq;
      sentence.textContent = t("Ticket %(t)s, please go to window %(w)s", { t: current.ticket, w: current.window });
      if (fresh) {
        box.classList.remove("flash");
        void box.offsetWidth; /* restart the animation */
        box.classList.add("flash");
      }
    } else {
      box.append(el("span", { className: "num idle" }, t("No calls yet")));
      sentence.textContent = "";
    }
    const table = document.getElementById("recent");
    table.replaceChildren();
    for (const call of calls.slice(1, 9)) {
      table.insertRow().append(
        el("td", { className: "ticket" }, call.ticket),
        el("td", { className: "window" }, t("Window %(n)s", { n: call.window })),
      );
    }
  }

  function renderQueue(queue) {
    const table = document.getElementById("waiting");
    table.replaceChildren();
    for (const s of shownServices(queue)) {
      table.insertRow().append(
        el("td", {}, el("span", { className: "letter" }, s.letter), " " + name(s)),
        el("td", { className: "count" }, String(s.waiting)),
      );
    }
  }

  function newestFirst(list) {
    return list.sort((a, b) => b.seq - a.seq).slice(0, KEEP);
  }

  function onCall(call) {
    if (seen.has(call.seq)) return;
    seen.add(call.seq);
    calls = newestFirst([call, ...calls]);
    render(calls[0] === call);
    if (soundOn) window.HallAnnounce.announce(call);
  }

  /* (Re)joined: the snapshot is the truth (a new day clears the board); calls that arrived
     live after the snapshot was taken are kept. Missed calls are shown, not spoken: they are old. */
  function onSnapshot(snap) {
    const newest = snap.calls.length ? snap.calls[0].seq : -Infinity;
    calls = newestFirst([...snap.calls, ...calls.filter((c) => c.seq > newest)]);
    for (const c of calls) seen.add(c.seq);
    render(false);
    renderQueue(snap.queue);
    window.HallMissed.render(snap.missed);
  }

  joinRoom(room, { snapshot: onSnapshot, call: onCall, queue: renderQueue,
    missed: (push) => window.HallMissed.render(push.missed) });

  const overlay = document.getElementById("sound");
  function enableSound() {
    soundOn = true;
    overlay.hidden = true;
  }
  overlay.addEventListener("click", () => {
    enableSound();
    new Audio("/static/audio/chime.wav").play().catch(() => {});
  });
  window.HallAnnounce.probe().then((allowed) => { if (allowed) enableSound(); });

  const clockFormat = new Intl.DateTimeFormat(window.HALL_LANG === "en" ? "en-GB" : "zh-CN", {
    month: "long", day: "numeric", weekday: "short", hour: "2-digit", minute: "2-digit",
    timeZone: window.HALL_TZ,
  });
  function tick() { document.getElementById("clock").textContent = clockFormat.format(new Date()); }
  tick();
  setInterval(tick, 5000);
})();
