/* Call screen: the current call large, recent calls, waiting per service; chime and speech. */
(function () {
  "use strict";
  const { t, joinRoom, name } = window.Hall;
  const root = document.getElementById("screen");
  const room = root.dataset.room;
  const seen = new Set();
  let calls = [];
  let soundOn = false;

  function render() {
    const current = calls[0];
    const box = document.getElementById("current");
    box.innerHTML = "";
    if (current) {
      const num = document.createElement("span");
      num.className = "num";
      num.textContent = current.ticket;
      const arrow = document.createElement("span");
      arrow.className = "arrow";
      arrow.textContent = "→";
      const win = document.createElement("span");
      win.className = "win";
      win.textContent = t("window_no", { n: current.window });
      box.append(num, arrow, win);
      box.dataset.seq = current.seq;
    } else {
      box.innerHTML = '<span class="num">—</span>';
    }
    const list = document.getElementById("recent");
    list.innerHTML = "";
    for (const call of calls.slice(1, 9)) {
      const li = document.createElement("li");
      li.textContent = call.ticket + "  →  " + t("window_no", { n: call.window });
      list.append(li);
    }
  }

  function renderQueue(queue) {
    const zone = room.startsWith("zone:") ? room.slice(5) : null;
    const table = document.getElementById("waiting");
    table.innerHTML = "";
    for (const s of queue.services) {
      if (zone && s.zone !== zone) continue;
      const row = table.insertRow();
      row.insertCell().textContent = s.letter + " " + name(s);
      const count = row.insertCell();
      count.textContent = s.waiting;
      count.className = "count";
    }
  }

  function addCall(call, speak) {
    if (seen.has(call.seq)) return;
    seen.add(call.seq);
    calls.unshift(call);
    calls.sort((a, b) => b.seq - a.seq);
    calls = calls.slice(0, 12);
    render();
    if (speak && soundOn) window.HallAnnounce.announce(call);
  }

  joinRoom(room, {
    snapshot(snap) {
      /* Reconnected: the snapshot is the truth; keep anything newer we already have. */
      for (const call of snap.calls.slice().reverse()) addCall(call, false);
      renderQueue(snap.queue);
    },
    call(call) { addCall(call, true); },
    queue: renderQueue,
  });

  document.getElementById("sound").addEventListener("click", (event) => {
    soundOn = true;
    event.target.hidden = true;
    new Audio("/static/audio/chime.wav").play().catch(() => {});
  });

  function tick() {
    document.getElementById("clock").textContent = new Date().toLocaleTimeString(
      window.HALL_LANG === "en" ? "en-GB" : "zh-CN", { hour: "2-digit", minute: "2-digit", timeZone: window.HALL_TZ });
  }
  tick();
  setInterval(tick, 10000);
})();
