/* Manager overview: queues, windows and calls, live from the "manager" room. */
(function () {
  "use strict";
  const { t, joinRoom, minutes, name } = window.Hall;
  const zones = Object.fromEntries((window.HALL_ZONES || []).map((z) => [z.code, name(z)]));
  let calls = [];

  function cells(row, values) {
    for (const value of values) row.insertCell().textContent = value;
  }

  function renderQueue(queue) {
    const services = document.querySelector("#services tbody");
    services.innerHTML = "";
    for (const s of queue.services) {
      const row = services.insertRow();
      cells(row, [s.letter + " " + name(s), zones[s.zone] || s.zone, s.waiting,
        minutes(s.estimated_wait_minutes), Math.round(s.longest_wait_minutes) + " " + t("minutes"),
        s.open_windows]);
      if (s.waiting > 0 && s.open_windows === 0) row.className = "alert";
    }
    const windows = document.querySelector("#windows tbody");
    windows.innerHTML = "";
    for (const w of queue.windows) {
      const row = windows.insertRow();
      cells(row, [w.number, zones[w.zone] || w.zone, t("state_" + w.state), w.clerk || "",
        w.ticket || "", w.served_today, w.services.join(", ")]);
      row.className = "state-" + w.state;
    }
    document.getElementById("updated").textContent = new Date().toLocaleTimeString();
  }

  function renderCalls() {
    const list = document.getElementById("recent");
    list.innerHTML = "";
    for (const c of calls) {
      const li = document.createElement("li");
      li.textContent = c.ticket + " → " + t("window_no", { n: c.window });
      list.append(li);
    }
  }

  joinRoom("manager", {
    snapshot(snap) { calls = snap.calls; renderCalls(); renderQueue(snap.queue); },
    queue: renderQueue,
    call(call) {
      if (calls.some((c) => c.seq === call.seq)) return;
      calls = [call, ...calls].slice(0, 10);
      renderCalls();
    },
  });
})();
