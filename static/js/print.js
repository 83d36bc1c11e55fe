/* Printing without inline script (the Content-Security-Policy allows none): a page marked
   data-print="now" prints itself once loaded (the kiosk's ticket slip, in a frame); a
   #print button prints on click (the routing slip). */
(function () {
  "use strict";
  if (document.body.dataset.print === "now") window.addEventListener("load", () => window.print());
  const button = document.getElementById("print");
  if (button) button.addEventListener("click", () => window.print());
})();
