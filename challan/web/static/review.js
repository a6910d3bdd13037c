// Keyboard shortcuts for the review queue: J/K move between violations, A approves as read, 1-9
// approve as that candidate, C and R jump to the correction and rejection fields, O opens the record.
(function () {
  "use strict";
  const cards = Array.from(document.querySelectorAll("article.card"));
  let current = 0;

  function select(index) {
    if (!cards.length) return;
    current = Math.max(0, Math.min(cards.length - 1, index));
    cards.forEach((card, i) => card.classList.toggle("current", i === current));
    cards[current].scrollIntoView({ block: "nearest" });
  }

  function press(card, selector) {
    const target = card.querySelector(selector);
    if (!target || target.disabled) return false;
    target.click();
    return true;
  }

  document.addEventListener("submit", (event) => {
    // One submission per form: a double key press must not approve twice.
    const form = event.target;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
  });

  document.addEventListener("keydown", (event) => {
    const field = event.target.closest("input, textarea, select");
    if (field) {
      if (event.key === "Escape") field.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || !cards.length) return;
    const card = cards[current];
    let handled = true;
    switch (event.key.toLowerCase()) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "a": handled = press(card, "[data-action=approve]"); break;
      case "c": card.querySelector("[data-action=correct]").focus(); break;
      case "r": card.querySelector("[data-action=reject]").focus(); break;
      case "o": window.location.href = card.dataset.href; break;
      default:
        handled = /^[1-9]$/.test(event.key) && press(card, `[data-key="${event.key}"]`);
    }
    if (handled) event.preventDefault();
  });

  cards.forEach((card, i) => card.addEventListener("click", () => select(i)));
  select(0);
})();
