// Click (or tap) an evidence picture to see it large: it opens over the page, fitted to the screen;
// a click on the large picture shows it at full size, to pan across on a phone; Esc, the close
// button or a click beside the picture closes it. Each picture is a link to its large image, so
// without this script a tap still opens the picture on its own.
(function () {
  "use strict";
  const links = Array.from(document.querySelectorAll("a.zoom"));
  if (!links.length || typeof HTMLDialogElement !== "function") return;
  let view = null, frame = null, picture = null, caption = null;

  function build() {
    // made on the first click, so that the page holds no empty picture before then
    view = document.createElement("dialog");
    view.className = "zoom-view";
    view.setAttribute("aria-label", "Enlarged picture");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "zoom-close";
    close.textContent = "Close \u00d7";
    frame = document.createElement("div");
    frame.className = "zoom-frame";
    picture = document.createElement("img");
    caption = document.createElement("p");
    caption.className = "zoom-caption";
    frame.append(picture);
    view.append(close, frame, caption);
    document.body.append(view);

    picture.addEventListener("click", (event) => {
      event.stopPropagation();
      // the point tapped stays under the finger when the picture grows to full size
      const across = event.offsetX / picture.clientWidth, down = event.offsetY / picture.clientHeight;
      if (!view.classList.toggle("actual")) return;
      frame.scrollLeft = across * picture.naturalWidth - frame.clientWidth / 2;
      frame.scrollTop = down * picture.naturalHeight - frame.clientHeight / 2;
    });
    close.addEventListener("click", () => view.close());
    frame.addEventListener("click", () => view.close()); // beside the picture
    // While the picture is open the review queue's shortcuts (J, K, A...) do not act behind it.
    view.addEventListener("keydown", (event) => event.stopPropagation());
  }

  function open(link) {
    if (!view) build();
    const thumb = link.querySelector("img");
    picture.src = link.href;
    picture.alt = thumb ? thumb.alt : "";
    caption.textContent = (thumb ? thumb.alt + " \u00b7 " : "") + "click the picture for full size";
    view.classList.remove("actual");
    view.showModal();
    view.querySelector(".zoom-close").focus();
  }

  links.forEach((link) =>
    link.addEventListener("click", (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      event.stopPropagation(); // the review card does not take the click as "select me" too
      open(link);
    })
  );
})();
