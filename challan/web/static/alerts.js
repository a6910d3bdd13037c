// The alerts page live: new alerts arrive over server-sent events (/officer/alerts/stream) and are
// added at the top of the table, newest first. The browser reconnects by itself from the last id;
// a refused stream (signed out) stops it and says so.
(function () {
  "use strict";
  const body = document.getElementById("alerts-body");
  const status = document.getElementById("alerts-live");
  if (!body || !status || !window.EventSource) return;

  function cell(row, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function text(parent, tag, value, className) {
    const node = document.createElement(tag);
    node.textContent = value;
    if (className) node.className = className;
    parent.appendChild(node);
    return node;
  }

  function row(a) {
    const tr = document.createElement("tr");
    tr.className = "alert-row fresh kind-" + a.kind;
    tr.dataset.id = a.id;
    text(cell(tr, "num mono"), "span", String(a.id));
    const kind = cell(tr);
    text(kind, "span", a.kind, "badge alert-kind");
    if (a.match) {
      kind.appendChild(document.createTextNode(" "));
      text(kind, "span", a.match, "match match-" + a.match);
    }
    const plate = cell(tr);
    text(plate, "span", a.plate, "plate");
    if (a.read && a.read !== a.plate) text(plate, "div", "read " + a.read, "muted");
    text(cell(tr), "span", a.reason);
    const where = cell(tr);
    where.appendChild(document.createTextNode(a.site_name));
    text(where, "div", a.site_id + " / track " + a.track_id, "muted mono");
    text(cell(tr, "when"), "span", a.seen_local);
    const shots = cell(tr, "shots");
    for (const e of a.evidence) {
      if (e.kind !== "plate_crop" && e.kind !== "scene_at") continue;
      const link = document.createElement("a");
      link.href = e.url;
      link.target = "_blank";
      link.rel = "noopener";
      const img = document.createElement("img");
      img.src = e.url;
      img.alt = e.kind;
      img.className = e.kind;
      link.appendChild(img);
      shots.appendChild(link);
    }
    return tr;
  }

  const after = Number(status.dataset.after || 0);
  const source = new EventSource("/officer/alerts/stream?after=" + after);
  source.addEventListener("alert", (event) => {
    const a = JSON.parse(event.data);
    if (body.querySelector('tr[data-id="' + a.id + '"]')) return;
    const empty = document.getElementById("alerts-empty");
    if (empty) empty.remove();
    body.insertBefore(row(a), body.firstChild);
  });
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      status.textContent = "Not live: sign in again, then reload this page.";
      status.classList.add("stopped");
    }
  });
})();
