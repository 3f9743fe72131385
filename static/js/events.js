// Event pages: progressive enhancements only — every form also works without JavaScript.
//  * a fresh client UUID for each new filing form (the server's value is the fallback);
//  * "use my location" fills latitude / longitude from navigator.geolocation;
//  * cascading county → township → village selects on the public report page;
//  * a preview of the chosen photos;
//  * confirmation before irreversible actions;
//  * a local draft of the filing form (browser storage) until the server confirms the filing.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function newUuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    if (window.crypto && typeof window.crypto.getRandomValues === "function") {
      var b = new Uint8Array(16);
      window.crypto.getRandomValues(b);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
    }
    return null; // keep the server-generated value
  }

  // A re-rendered form (after an error) keeps its UUID: nothing was filed yet, and re-sending
  // it must stay idempotent. A fresh form gets one generated here.
  function initClientUuid() {
    document.querySelectorAll("form[data-client-uuid]").forEach(function (form) {
      if (form.dataset.bound === "true") return;
      var input = form.querySelector("input[name=client_uuid]");
      var value = input && newUuid();
      if (value) input.value = value;
    });
  }

  function initLocate() {
    document.querySelectorAll("[data-locate]").forEach(function (button) {
      if (!("geolocation" in navigator)) return;
      var form = button.closest("form");
      var lat = form.querySelector("[name=lat]");
      var lng = form.querySelector("[name=lng]");
      var status = button.parentNode.querySelector(".locate-status");
      button.hidden = false;
      button.addEventListener("click", function () {
        status.textContent = button.dataset.msgLocating;
        button.disabled = true;
        navigator.geolocation.getCurrentPosition(
          function (position) {
            lat.value = position.coords.latitude.toFixed(6);
            lng.value = position.coords.longitude.toFixed(6);
            status.textContent = button.dataset.msgDone + "（±" + Math.round(position.coords.accuracy) + " m）";
            button.disabled = false;
          },
          function () {
            status.textContent = button.dataset.msgFailed;
            button.disabled = false;
          },
          { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
        );
      });
    });
  }

  function clearOptions(select) {
    while (select.options.length > 1) select.remove(1);
    select.value = "";
  }

  function initCascade() {
    document.querySelectorAll("[data-noscript-step]").forEach(function (button) { button.hidden = true; });
    document.querySelectorAll("select[data-cascade]").forEach(function (select) {
      select.addEventListener("change", function () {
        // Empty every select further down the chain.
        var target = document.getElementById(select.dataset.cascade);
        var next = target;
        while (next) {
          clearOptions(next);
          next = next.dataset.cascade ? document.getElementById(next.dataset.cascade) : null;
        }
        if (!select.value || !window.fetch) return;
        var url = select.dataset.childrenUrl.replace("CODE", encodeURIComponent(select.value));
        target.disabled = true;
        fetch(url, { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { children: [] }; })
          .then(function (data) {
            data.children.forEach(function (child) { target.add(new Option(child.name, child.code)); });
          })
          .catch(function () { /* the no-JavaScript step buttons still work after a reload */ })
          .then(function () { target.disabled = false; });
      });
    });
  }

  function initPhotoPreview() {
    document.querySelectorAll("input[type=file][accept^='image']").forEach(function (input) {
      var list = input.form && input.form.querySelector(".photo-preview");
      if (!list || !window.URL) return;
      input.addEventListener("change", function () {
        list.innerHTML = "";
        Array.prototype.forEach.call(input.files, function (file) {
          var item = document.createElement("li");
          var image = document.createElement("img");
          image.alt = file.name;
          image.src = URL.createObjectURL(file);
          image.onload = function () { URL.revokeObjectURL(image.src); };
          item.appendChild(image);
          list.appendChild(item);
        });
      });
    });
  }

  function initConfirm() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  // The filing form keeps what is typed in localStorage (with its client UUID, so a re-send after a
  // lost answer stays the same filing) until the event page confirms that filing; a dropped
  // connection or a reload loses nothing. Files cannot be kept (browsers forbid it).
  var DRAFT_SKIP = { csrfmiddlewaretoken: true, photos: true };

  function storage() {
    try {
      var probe = "__draft_probe__";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null; // private mode or storage disabled: the form still works, without a draft
    }
  }

  function readDraft(store, key) {
    try { return JSON.parse(store.getItem(key) || "null"); } catch (e) { return null; }
  }

  function collect(form) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || DRAFT_SKIP[el.name] || el.type === "file" || el.type === "submit" || el.type === "button") return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      fields[el.name] = el.value;
    });
    return fields;
  }

  function restore(form, fields) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in fields) || el.type === "file") return;
      if (el.type === "radio" || el.type === "checkbox") el.checked = el.value === fields[el.name];
      else el.value = fields[el.name];
    });
  }

  function initDraft() {
    var store = storage();
    if (!store) return;
    document.querySelectorAll("[data-draft-confirmed]").forEach(function (marker) {
      for (var i = store.length - 1; i >= 0; i--) {
        var key = store.key(i);
        if (key && key.indexOf("event-draft:") === 0) {
          var draft = readDraft(store, key);
          if (draft && draft.fields && draft.fields.client_uuid === marker.dataset.draftConfirmed) store.removeItem(key);
        }
      }
    });
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      var key = form.dataset.draft;
      var notice = form.querySelector("[data-draft-notice]");
      var draft = readDraft(store, key);
      if (draft && draft.fields && form.dataset.bound !== "true") {
        restore(form, draft.fields);
        if (notice) {
          notice.hidden = false;
          var at = notice.querySelector("[data-draft-time]");
          if (at) at.textContent = new Date(draft.savedAt).toLocaleString();
        }
      }
      var save = function () {
        store.setItem(key, JSON.stringify({ savedAt: Date.now(), fields: collect(form) }));
      };
      form.addEventListener("input", save);
      form.addEventListener("change", save);
      form.addEventListener("submit", save);
      var discard = form.querySelector("[data-draft-discard]");
      if (discard) {
        discard.addEventListener("click", function () {
          store.removeItem(key);
          window.location.reload();
        });
      }
    });
  }

  ready(function () {
    initClientUuid();
    initDraft();
    initLocate();
    initCascade();
    initPhotoPreview();
    initConfirm();
  });
})();
