// The dashboard's traffic flow live: every data-every seconds, while the tab is shown, the panel is
// fetched again as the server renders it (/officer/dashboard/flow, charts and tables) and put in
// place of the old one; a tab shown again is brought up to date at once. A signed-out session stops
// it and says so; a portal that does not answer is tried again. Changing a choice shows it at once.
(function () {
  "use strict";
  const panel = document.getElementById("flow-panel");
  const status = document.getElementById("flow-live");
  const choice = document.getElementById("flow-choice");
  if (choice) {
    for (const select of choice.querySelectorAll("select")) {
      select.addEventListener("change", () => choice.requestSubmit());
    }
  }
  if (!panel || !status || !window.fetch) return;
  const every = Math.max(1, Number(panel.dataset.every || 10)) * 1000;
  const said = status.textContent;
  let busy = false;
  let timer = null;

  function say(text, stopped) {
    status.textContent = text;
    status.classList.toggle("stopped", Boolean(stopped));
  }

  async function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const response = await fetch(panel.dataset.src, {
        credentials: "same-origin",
        cache: "no-store",
        redirect: "manual", // a signed-out session is sent to the sign-in page: not a panel
      });
      if (response.type === "opaqueredirect" || response.status === 401) {
        clearInterval(timer);
        say("Not live: sign in again, then reload this page.", true);
        return;
      }
      if (!response.ok) {
        say("Not live: the portal answered " + response.status + "; trying again.", true);
        return;
      }
      const html = await response.text();
      const open = [...panel.querySelectorAll("details[open]")].map((d) => d.id);
      panel.innerHTML = html; // the server's own escaped HTML; the CSP forbids any inline script
      for (const id of open) {
        const details = document.getElementById(id);
        if (details) details.open = true;
      }
      panel.dataset.refreshed = String(Number(panel.dataset.refreshed || 0) + 1);
      say(said, false);
    } catch (error) {
      say("Not live: the portal did not answer; trying again.", true);
    } finally {
      busy = false;
    }
  }

  timer = setInterval(refresh, every);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
})();
