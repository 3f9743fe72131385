// The cycle page: progressive enhancements only — the page works without JavaScript.
//  * while the computation is queued or running, poll <pk>/progress.json every 2 s, move the
//    <progress> bar and the note, and reload the page when it has finished;
//  * confirmation before finalising (irreversible).
(function () {
  "use strict";

  var ACTIVE = ["queued", "running"];
  var INTERVAL = 2000;

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function initProgress() {
    var box = document.querySelector("[data-progress-url]");
    if (!box || ACTIVE.indexOf(box.dataset.status) < 0 || !window.fetch) return;
    var bar = box.querySelector("progress");
    var value = box.querySelector("[data-progress-value]");
    var note = box.querySelector("[data-progress-note]");
    var status = box.querySelector(".status");

    function show(data) {
      if (bar) { bar.value = data.progress; bar.textContent = data.progress + "%"; }
      if (value) value.textContent = data.progress;
      if (note) note.textContent = data.note || "";
      if (status) status.textContent = data.status_display;
    }

    function poll() {
      window.fetch(box.dataset.progressUrl, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" }
      })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          show(data);
          if (ACTIVE.indexOf(data.status) < 0) window.location.reload();
          else window.setTimeout(poll, INTERVAL);
        })
        .catch(function () { window.setTimeout(poll, INTERVAL * 3); }); // network hiccup: slow down, keep going
    }

    window.setTimeout(poll, INTERVAL);
  }

  function initConfirm() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  ready(function () {
    initProgress();
    initConfirm();
  });
})();
