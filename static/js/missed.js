/* Call screen: the recently missed numbers (过号), in their own line at the foot. Fed by
   screen.js from the room's snapshot (`missed`) and the `missed` push; kept apart from the
   screen's layout so either can change alone. */
(function () {
  "use strict";
  const { el } = window.Hall;
  window.HallMissed = {
    render(missed) {
      const line = document.getElementById("missed-line");
      if (!line || !Array.isArray(missed)) return;
      document.getElementById("missed").replaceChildren(
        ...missed.map((m) => el("span", { className: "missed-number" }, m.ticket)));
      line.hidden = missed.length === 0;
    },
  };
})();
