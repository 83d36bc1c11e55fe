/* Silent calling on the ticket page: leave a mobile number for an SMS when the turn is near
   and when called, or take it back. Shown only when the hall has an SMS gateway for it. */
(function () {
  "use strict";
  const { t, api, showError } = window.Hall;
  const token = document.getElementById("ticket").dataset.token;
  const form = document.getElementById("phone-leave");
  const left = document.getElementById("phone-left");
  const withdraw = document.getElementById("phone-withdraw");

  function render(state) {
    left.hidden = !state.phone;
    withdraw.hidden = !state.phone;
    form.hidden = Boolean(state.phone);
    if (state.phone) {
      left.textContent = t("We will text %(p)s when %(n)s people are ahead and when you are called",
        { p: state.phone, n: state.notify_ahead });
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const phone = document.getElementById("phone");
    try {
      render(await api("PUT", "/tickets/" + token + "/phone", { phone: phone.value.trim() }));
      phone.value = "";
      showError(null);
    } catch (error) { showError(error); }
  });
  withdraw.addEventListener("click", async () => {
    try { render(await api("DELETE", "/tickets/" + token + "/phone")); } catch (error) { showError(error); }
  });
  api("GET", "/tickets/" + token + "/phone").then(render).catch(() => { /* the form stays */ });
  /* Only a waiting ticket takes a number: the page's "leave the queue" button shows exactly
     while it waits (ticket.js keeps it so), and the panel follows it. */
  const panel = document.getElementById("phone-form");
  const cancel = document.getElementById("cancel");
  new MutationObserver(() => { panel.hidden = cancel.hidden; })
    .observe(cancel, { attributes: true, attributeFilter: ["hidden"] });
})();
