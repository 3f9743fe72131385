// A background job's progress bar (assessment cycles, the import jobs of /records/): a progressive
// enhancement — without JavaScript the page shows the state it was rendered with and a reload shows
// the rest. Keyed on the payload's `running` flag rather than on status names, so any job page can use it:
//   <section data-progress-url="…/progress/" data-running="1">
//     <progress> · [data-progress-value] · [data-progress-note] · [data-progress-status]
// While running, poll the URL every second, move the bar, and reload the page once the job has ended.
(function () {
  "use strict";

  var INTERVAL = 1000;

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function track(box) {
    var bar = box.querySelector("progress");
    var value = box.querySelector("[data-progress-value]");
    var note = box.querySelector("[data-progress-note]");
    var status = box.querySelector("[data-progress-status]");

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
          if (data.running) window.setTimeout(poll, INTERVAL);
          else window.location.reload();
        })
        .catch(function () { window.setTimeout(poll, INTERVAL * 5); }); // network hiccup: slow down, keep going
    }

    window.setTimeout(poll, INTERVAL);
  }

  ready(function () {
    if (!window.fetch) return;
    document.querySelectorAll("[data-progress-url][data-running='1']").forEach(track);
  });
})();
