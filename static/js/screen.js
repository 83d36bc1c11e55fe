/* Call screen: the newest calls very large (side by side when windows call together, each for
   at least HOLD_MS), recent calls one row per ticket, waiting per service; chime and speech.
   Calls are deduplicated by `seq` (and a clerk's re-announcement by `repeat`), so a call seen
   both live and in a snapshot shows once. A screen device reports each call it showed and,
   separately, each it finished speaking (`receipt`), and beats every 10 s (`heartbeat`):
   the clerk's console counts the screens that really showed and spoke a call. */
(function () {
  "use strict";
  const { t, joinRoom, name, el } = window.Hall;
  const root = document.getElementById("screen");
  const room = root.dataset.room;
  const [kind, key] = room.split(":");
  const windows = window.Hall.data().windows || [];
  const KEEP = 24;
  const LARGE = 3; /* calls shown large at once */
  const HOLD_MS = 10000; /* a new call stays large at least this long */
  /* Recent-call rows: the waiting table below them must stay whole (landscape); a portrait
     screen has them side by side, with room for more. */
  const ROWS = window.matchMedia("(orientation: portrait)").matches ? 10 : 6;
  const MISSED_MAX_AGE_S = 120; /* a call missed while away is spoken if younger than this */
  const STORE = "hall.screen." + window.Hall.base + room + ".";
  const seen = new Set();
  const reported = new Set();
  const heard = new Set(); /* calls announced (or queued) by this page: never twice */
  let calls = [];
  let stage = []; /* {call, since}: shown large, newest first */
  let pending = []; /* waiting for a large place, oldest first */
  let timer = null;
  let soundOn = false;
  let reporting = true;
  let lastSeq = Number(localStorage.getItem(STORE + "lastSeq")) || null;
  let socket = null;

  const callKey = (call) => call.seq + ":" + (call.repeat || 0);

  function shownServices(queue) {
    if (kind === "zone") return queue.services.filter((s) => s.zone === key);
    if (kind === "window") {
      const mine = (windows.find((w) => String(w.number) === key) || { services: [] }).services;
      return queue.services.filter((s) => mine.includes(s.code));
    }
    return queue.services;
  }

  /* What the screen reports; a connection that is no screen device is told so once, then quiet. */
  function report(call, stage_) {
    const id = callKey(call) + ":" + stage_;
    if (!reporting || !socket || !socket.connected || reported.has(id)) return;
    reported.add(id);
    socket.emit("receipt", { call: call.seq, repeat: call.repeat || null, stage: stage_ }, (ack) => {
      if (ack && ack.error === "forbidden") reporting = false;
      else if (!ack || !ack.ok) reported.delete(id);
    });
  }

  function card(call, fresh) {
    const target = el("div", { className: "target" },
      el("span", { className: "arrow" }, "→"),
      el("span", { className: "win" }, t("Window %(n)s", { n: call.window })));
    if (call.recall || call.repeat) target.append(el("span", { className: "recall" }, t("again")));
    const box = el("div", { className: "call-card" + (fresh ? " flash" : "") },
      el("span", { className: "num" }, call.ticket), target);
    box.dataset.seq = call.seq;
    return box;
  }

  function latestPerTicket(list) {
    const rows = new Map();
    for (const c of list) if (!rows.has(c.ticket)) rows.set(c.ticket, { call: c, times: 0 });
    for (const c of list) rows.get(c.ticket).times += 1;
    return [...rows.values()];
  }

  function render(freshSeq) {
    const box = document.getElementById("current");
    const sentence = document.getElementById("sentence");
    box.replaceChildren();
    box.dataset.count = String(stage.length);
    if (stage.length) {
      for (const s of stage) {
        box.append(card(s.call, s.call.seq === freshSeq));
        report(s.call, "shown");
      }
      const newest = stage[0].call;
      box.dataset.seq = newest.seq;
      sentence.textContent = t("Ticket %(t)s, please go to window %(w)s", { t: newest.ticket, w: newest.window });
    } else {
      box.append(el("span", { className: "num idle" }, t("No calls yet")));
      sentence.textContent = "";
    }
    const onStage = new Set(stage.map((s) => s.call.ticket));
    const table = document.getElementById("recent");
    table.replaceChildren();
    const rows = latestPerTicket(calls).filter((r) => !onStage.has(r.call.ticket)).slice(0, ROWS);
    for (const { call, times } of rows) {
      const tr = table.insertRow();
      tr.append(
        el("td", { className: "ticket" }, call.ticket),
        el("td", { className: "window" }, t("Window %(n)s", { n: call.window })),
      );
      tr.dataset.times = String(times);
      if (times > 1) tr.cells[0].append(el("span", { className: "times" }, "×" + times));
      report(call, "shown");
    }
  }

  /* The large places: a card leaves once its HOLD_MS are over and a newer call wants its place
     (or it is not the newest any more); the newest stays large until something replaces it. */
  function pump(freshSeq) {
    const now = Date.now();
    stage = stage.filter((s, i) => now - s.since < HOLD_MS || (i === 0 && !pending.length));
    while (pending.length && stage.length < LARGE) {
      const call = pending.shift();
      stage = [{ call, since: now }, ...stage];
    }
    render(freshSeq);
    clearTimeout(timer);
    const next = stage.filter((s, i) => i > 0 || pending.length).map((s) => s.since + HOLD_MS - now);
    if (next.length) timer = setTimeout(() => pump(null), Math.max(50, Math.min(...next)));
  }

  /* The same ticket again, or the same window calling anew (a window calls one ticket at a
     time): the old card gives its place at once, held or not. */
  function place(call) {
    const stale = (c) => c.ticket === call.ticket || c.window === call.window;
    stage = stage.filter((s) => !stale(s.call));
    pending = pending.filter((c) => !stale(c));
    pending.push(call);
    pump(call.seq);
  }

  function remember(call) {
    if (!lastSeq || call.seq > lastSeq) {
      lastSeq = call.seq;
      localStorage.setItem(STORE + "lastSeq", String(lastSeq));
    }
  }

  function say(call) {
    const id = callKey(call);
    if (heard.has(id)) return;
    heard.add(id);
    if (soundOn) window.HallAnnounce.announce(call, (c) => report(c, "spoken"));
  }

  function onCall(call) {
    const id = callKey(call);
    if (seen.has(id)) return;
    seen.add(id);
    if (!call.repeat) calls = newestFirst([call, ...calls.filter((c) => c.seq !== call.seq)]);
    remember(call);
    place(call);
    say(call);
  }

  function newestFirst(list) {
    return list.sort((a, b) => b.seq - a.seq).slice(0, KEEP);
  }

  /* (Re)joined: the snapshot is the truth (a new day clears the board); calls that arrived
     live after the snapshot was taken are kept. Calls made while this screen was away (newer
     than the last it knew, even across a restart) are spoken once, if still recent. */
  function onSnapshot(snap) {
    const newest = snap.calls.length ? snap.calls[0].seq : -Infinity;
    const known = lastSeq;
    calls = newestFirst([...snap.calls, ...calls.filter((c) => c.seq > newest)]);
    const missed = known === null ? [] : latestPerTicket(snap.calls)
      .map((r) => r.call)
      .filter((c) => c.seq > known && (Date.parse(snap.at) - Date.parse(c.at)) / 1000 <= MISSED_MAX_AGE_S)
      .reverse();
    for (const c of snap.calls) { seen.add(callKey(c)); remember(c); }
    const kept = new Set(calls.map((c) => c.seq));
    stage = stage.filter((s) => kept.has(s.call.seq)); /* a new day clears the board */
    pending = pending.filter((c) => kept.has(c.seq));
    const top = calls[0];
    if (top && !missed.includes(top) && !stage.some((s) => s.call.seq === top.seq)) {
      /* the newest call belongs large, silently and held no time (it is not new) */
      const other = (s) => s.call.ticket !== top.ticket && s.call.window !== top.window;
      stage = [{ call: top, since: 0 }, ...stage.filter(other)].slice(0, LARGE);
    }
    for (const c of missed) place(c);
    render(null);
    renderQueue(snap.queue);
    window.HallMissed.render(snap.missed);
    for (const c of missed) say(c);
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

  socket = joinRoom(room, { snapshot: onSnapshot, call: onCall, queue: renderQueue,
    missed: (push) => window.HallMissed.render(push.missed) });
  setInterval(() => {
    if (reporting && socket.connected) {
      socket.emit("heartbeat", {}, (ack) => { if (ack && ack.error === "forbidden") reporting = false; });
    }
  }, 10000);
  window.HallScreen = { socket, stage: () => stage.map((s) => s.call.ticket) };

  /* Sound: browsers want a gesture first unless Chromium runs with
     --autoplay-policy=no-user-gesture-required (docs/deploy.md). Until then a small banner
     (never over a call) says so; any click or key on the screen enables sound. "Keep silent"
     is remembered by this screen (localStorage), so the banner does not come back. */
  const banner = document.getElementById("sound-banner");
  function enableSound() {
    soundOn = true;
    banner.hidden = true;
    localStorage.setItem(STORE + "sound", "on");
  }
  function gesture() {
    if (soundOn || localStorage.getItem(STORE + "sound") === "off") return;
    enableSound();
    new Audio(window.Hall.url("/static/audio/chime.wav")).play().catch(() => {});
  }
  document.getElementById("sound").addEventListener("click", gesture);
  document.getElementById("keep-silent").addEventListener("click", (event) => {
    event.stopPropagation();
    localStorage.setItem(STORE + "sound", "off");
    banner.hidden = true;
  });
  document.addEventListener("click", gesture);
  document.addEventListener("keydown", gesture);
  window.HallAnnounce.probe().then((allowed) => {
    if (allowed) enableSound();
    else banner.hidden = localStorage.getItem(STORE + "sound") === "off";
  });

  const clockFormat = new Intl.DateTimeFormat(window.HALL_LANG === "en" ? "en-GB" : "zh-CN", {
    month: "long", day: "numeric", weekday: "short", hour: "2-digit", minute: "2-digit",
    timeZone: window.HALL_TZ,
  });
  function tick() { document.getElementById("clock").textContent = clockFormat.format(new Date()); }
  tick();
  setInterval(tick, 5000);
})();
