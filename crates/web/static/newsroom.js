// newsdesk newsroom: autosave, presence and live preview for the story editor.
// The editor works without this file (Save and Preview buttons); this only adds convenience.
(function () {
  "use strict";
  var form = document.getElementById("story-form");
  if (!form) return;
  var storyId = form.getAttribute("data-story");
  var csrf = form.querySelector("input[name=csrf]");
  var status = document.getElementById("autosave-status");
  var presence = document.getElementById("presence-live");
  var preview = document.getElementById("live-preview");
  var body = document.getElementById("body_md");
  var dirty = false;

  function encoded(extra) {
    var data = new URLSearchParams(new FormData(form));
    data.delete("action");
    if (extra) Object.keys(extra).forEach(function (k) { data.set(k, extra[k]); });
    return data;
  }
  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: data.toString()
    });
  }
  function say(el, text) { if (el) el.textContent = text; }

  form.addEventListener("input", function () { dirty = true; });

  function beat() {
    if (!storyId || storyId === "0") return;
    var data = dirty ? encoded() : encoded({ heartbeat: "1" });
    var wasDirty = dirty;
    dirty = false;
    post("/newsroom/stories/" + storyId + "/autosave", data)
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (j) {
        if (wasDirty && j.saved_at) say(status, "Draft text autosaved at " + j.saved_at + " (not yet saved to the story).");
        say(presence, j.others && j.others.length ? "Also editing now: " + j.others.join(", ") : "");
      })
      .catch(function () { dirty = dirty || wasDirty; say(status, "Autosave failed; your text is still here. Save when you can."); });
  }
  setInterval(beat, 20000);

  var timer = null;
  function refreshPreview() {
    if (!preview || !csrf) return;
    var data = new URLSearchParams();
    data.set("csrf", csrf.value);
    data.set("body_md", body.value);
    post("/newsroom/preview", data)
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      // The server returns sanitised HTML; the page's CSP also forbids inline script.
      .then(function (html) { preview.innerHTML = html; })
      .catch(function () {});
  }
  if (body && preview) {
    body.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refreshPreview, 600);
    });
    refreshPreview();
  }
})();
