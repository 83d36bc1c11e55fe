/* Clerk console: log in at a window, then call, recall, skip, start, finish, transfer. */
(function () {
  "use strict";
  const { t, api, joinRoom, showError } = window.Hall;
  let number = null;
  let view = null;

  async function loadClerks() {
    const { clerks } = await api("GET", "/clerks");
    const select = document.getElementById("clerk");
    for (const c of clerks) {
      const option = document.createElement("option");
      option.value = c.id;
      option.textContent = c.id + " " + c.name;
      select.append(option);
    }
  }

  function render(next) {
    view = next;
    document.getElementById("title").textContent =
      t("window_no", { n: view.number }) + (view.clerk_name ? " · " + view.clerk_name : "");
    document.getElementById("state").textContent = t("state_" + view.state);
    document.getElementById("current").textContent = view.ticket ? view.ticket.number : "—";
    document.getElementById("pause").textContent = view.state === "paused" ? t("resume") : t("pause");
    const table = document.getElementById("queue");
    table.innerHTML = "";
    for (const [code, count] of Object.entries(view.waiting)) {
      const row = table.insertRow();
      row.insertCell().textContent = code;
      row.insertCell().textContent = count;
    }
    document.getElementById("next").textContent = view.next.join("  ") || t("none");
  }

  function enter(next) {
    number = next.number;
    document.getElementById("login").hidden = true;
    document.getElementById("console").hidden = false;
    render(next);
    joinRoom("window:" + number, { window: render });
  }

  document.getElementById("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const windowNumber = document.getElementById("window").value;
    try {
      enter(await api("POST", "/windows/" + windowNumber + "/login", {
        clerk: document.getElementById("clerk").value,
        pin: document.getElementById("pin").value,
      }));
      showError(null);
    } catch (error) { showError(error); }
  });

  document.querySelectorAll("[data-action]").forEach((button) =>
    button.addEventListener("click", async () => {
      const action = button.dataset.action;
      const guard = view && view.ticket ? { ticket: view.ticket.number } : {};
      try {
        let result;
        if (action === "call-next") {
          result = await api("POST", "/windows/" + number + "/call-next");
          if (!result.call) showError({ message: result.message });
          else showError(null);
          render(result.window);
          return;
        }
        if (action === "pause") {
          result = await api("POST", "/windows/" + number + "/pause", { paused: view.state !== "paused" });
        } else if (action === "logout") {
          await api("POST", "/windows/" + number + "/logout");
          location.reload();
          return;
        } else {
          result = await api("POST", "/windows/" + number + "/" + action, guard);
        }
        render(result);
        showError(null);
      } catch (error) { showError(error); }
    }));

  document.getElementById("transfer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { service: document.getElementById("to-service").value };
    const target = document.getElementById("to-window").value;
    if (target) body.window = Number(target);
    if (view && view.ticket) body.ticket = view.ticket.number;
    try {
      render(await api("POST", "/windows/" + number + "/transfer", body));
      showError(null);
    } catch (error) { showError(error); }
  });

  loadClerks().catch(showError);
})();
