/*!
 * Charter cookie consent (promises P-TRK-1, P-TRK-2). No dependencies, no build step, no eval.
 *
 *   <script src="https://charter.example/static/charter-consent.js"
 *           data-charter="https://charter.example" defer></script>
 *
 * Shows the banner of the privacy statement in force (from /api/v1/banner/config), records the
 * visitor's choice in Charter's ledger (POST /api/v1/banner/choices) and remembers it in one
 * first-party cookie, "charter_consent" (strictly necessary). It never sets any other cookie.
 * Global Privacy Control and Do Not Track switch the classes they cover off by default.
 *
 * For the site: window.Charter.consent.get() / .allowed(cls) / .open(); a "charter:consent"
 * event on document; and <script type="text/plain" data-charter-class="analytics"> blocks,
 * run once their class is allowed. Guide: docs/guide/consent-banner.md.
 */
(function () {
  "use strict";

  var w = window;
  var d = document;
  w.Charter = w.Charter || {};
  if (w.Charter.consent) {
    return; // embedded twice: the first copy is in charge
  }

  var COOKIE = "charter_consent";
  var COOKIE_DAYS = 180;
  var ID = /^[0-9a-f]{32}$/;
  var CLASS_ATTR = "data-charter-class";
  var GENERIC = {
    title: "Cookies",
    body: "Cookie settings could not be loaded, so this site uses only the cookies it needs to work. " +
      "You will be asked again later.",
    retry: "Try again",
    close: "Close",
    saving: "Saving your choice…",
    failed: "Your choice could not be saved. Please try again.",
    stale: "The cookie settings have changed. Please choose again."
  };

  var script = d.currentScript;
  var base = (script && script.getAttribute("data-charter")) ||
    (script && script.src ? new URL(script.src, w.location.href).origin : "");
  base = base.replace(/\/+$/, "");

  var signals = {
    gpc: navigator.globalPrivacyControl === true,
    dnt: navigator.doNotTrack === "1" || w.doNotTrack === "1"
  };
  var config = null; // the banner config, once loaded
  var stored = readCookie(); // {v: version, id: cookie id, c: {class: bool}} or null
  var current = stored ? stored.c : null; // the choices in force on this page
  var banner = null;
  var overlay = null;
  var opener = null;
  var uid = 0;

  // --- the consent cookie (the only cookie this script sets) ---------------------------

  function readCookie() {
    var parts = d.cookie ? d.cookie.split(/;\s*/) : [];
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf(COOKIE + "=") !== 0) {
        continue;
      }
      try {
        var value = JSON.parse(decodeURIComponent(parts[i].slice(COOKIE.length + 1)));
        if (value && typeof value.v === "string" && ID.test(value.id) && value.c && typeof value.c === "object") {
          var choices = {};
          for (var key in value.c) {
            if (Object.prototype.hasOwnProperty.call(value.c, key)) {
              choices[key] = value.c[key] === true;
            }
          }
          return { v: value.v, id: value.id, c: choices };
        }
      } catch (ignored) {
        // a damaged cookie is treated as no choice: the banner asks again
      }
    }
    return null;
  }

  function writeCookie(version, id, choices) {
    var value = encodeURIComponent(JSON.stringify({ v: version, id: id, c: choices }));
    var secure = w.location.protocol === "https:" ? "; Secure" : "";
    d.cookie = COOKIE + "=" + value + "; Max-Age=" + COOKIE_DAYS * 86400 + "; Path=/; SameSite=Lax" + secure;
  }

  function newId() {
    var bytes = new Uint8Array(16);
    w.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) {
      hex += (bytes[i] + 0x100).toString(16).slice(1);
    }
    return hex;
  }

  // --- applying a choice ---------------------------------------------------------------

  function allowed(cls) {
    return cls === "necessary" || Boolean(current && current[cls] === true);
  }

  function snapshot() {
    if (!current) {
      return null;
    }
    var copy = { necessary: true };
    for (var key in current) {
      if (Object.prototype.hasOwnProperty.call(current, key)) {
        copy[key] = current[key] === true;
      }
    }
    return copy;
  }

  /** Run the page's <script type="text/plain" data-charter-class="..."> blocks whose class is allowed. */
  function activateBlocks() {
    var blocks = d.querySelectorAll('script[type="text/plain"][' + CLASS_ATTR + "]");
    for (var i = 0; i < blocks.length; i++) {
      var old = blocks[i];
      if (!allowed(old.getAttribute(CLASS_ATTR))) {
        continue;
      }
      var fresh = d.createElement("script");
      for (var j = 0; j < old.attributes.length; j++) {
        var name = old.attributes[j].name;
        if (name !== "type" && name !== CLASS_ATTR && name !== "data-type" && name !== "nonce") {
          fresh.setAttribute(name, old.attributes[j].value);
        }
      }
      fresh.type = old.getAttribute("data-type") || "text/javascript";
      if (old.nonce) {
        fresh.nonce = old.nonce;
      }
      if (!old.src) {
        fresh.text = old.text;
      }
      old.parentNode.replaceChild(fresh, old);
    }
  }

  function apply(choices, source) {
    current = choices;
    activateBlocks();
    var detail = {
      choices: snapshot(),
      statement_version: stored ? stored.v : null,
      source: source,
      gpc: signals.gpc,
      dnt: signals.dnt
    };
    d.dispatchEvent(new CustomEvent("charter:consent", { detail: detail }));
  }

  // --- talking to Charter --------------------------------------------------------------

  function loadConfig() {
    return fetch(base + "/api/v1/banner/config", { credentials: "omit", mode: "cors" }).then(function (r) {
      if (!r.ok) {
        throw new Error("banner config: HTTP " + r.status);
      }
      return r.json();
    });
  }

  function record(choices) {
    var id = stored && ID.test(stored.id) ? stored.id : newId();
    var body = {
      cookie_id: id,
      choices: choices,
      banner_sha256: config.banner_sha256,
      statement_version: config.statement_version,
      gpc: signals.gpc,
      dnt: signals.dnt
    };
    return fetch(base + "/api/v1/banner/choices", {
      method: "POST",
      credentials: "omit",
      mode: "cors",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      if (!r.ok) {
        var error = new Error("banner choice: HTTP " + r.status);
        error.status = r.status;
        throw error;
      }
      return id;
    });
  }

  // --- building the interface (text only through textContent) --------------------------

  function el(tag, attrs, text) {
    var node = d.createElement(tag);
    for (var key in attrs || {}) {
      if (Object.prototype.hasOwnProperty.call(attrs, key)) {
        node.setAttribute(key, attrs[key]);
      }
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function button(label, action, primary) {
    var node = el("button", { type: "button", "data-action": action, class: primary ? "charter-primary" : "" }, label);
    return node;
  }

  function signalled(cls) {
    return (signals.gpc && cls.off_under.indexOf("gpc") >= 0) || (signals.dnt && cls.off_under.indexOf("dnt") >= 0);
  }

  function signalNote(parent) {
    if (config && (signals.gpc || signals.dnt)) {
      parent.appendChild(el("p", { class: "charter-note" }, config.text.signal_note));
    }
  }

  /** "Accept all": every class, except those a browser signal covers (switch them on in the settings). */
  function acceptAll() {
    var choices = {};
    config.classes.forEach(function (cls) {
      if (!cls.required) {
        choices[cls.id] = !signalled(cls);
      }
    });
    return choices;
  }

  function rejectAll() {
    var choices = {};
    config.classes.forEach(function (cls) {
      if (!cls.required) {
        choices[cls.id] = false;
      }
    });
    return choices;
  }

  function removeBanner() {
    if (banner && banner.parentNode) {
      banner.parentNode.removeChild(banner);
    }
    banner = null;
  }

  function status(container, message) {
    var live = container.querySelector(".charter-status");
    if (live) {
      live.textContent = message;
    }
  }

  function setBusy(container, busy) {
    var buttons = container.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = busy;
    }
  }

  function showBanner() {
    removeBanner();
    uid += 1;
    var titleId = "charter-banner-title-" + uid;
    var bodyId = "charter-banner-body-" + uid;
    banner = el("div", {
      class: "charter-banner",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": titleId,
      "aria-describedby": bodyId
    });
    var body = el("p", { id: bodyId }, config ? config.text.body + " " : GENERIC.body);
    banner.appendChild(el("h2", { id: titleId, class: "charter-title" }, config ? config.text.title : GENERIC.title));
    banner.appendChild(body);
    var actions = el("div", { class: "charter-actions" });
    if (config) {
      body.appendChild(el("a", { href: config.policy_url, target: "_blank", rel: "noopener" }, config.text.policy_link));
      signalNote(banner);
      actions.appendChild(button(config.text.accept_all, "accept", true));
      actions.appendChild(button(config.text.reject, "reject", true));
      actions.appendChild(button(config.text.settings, "settings", false));
    } else {
      actions.appendChild(button(GENERIC.retry, "retry", false));
      actions.appendChild(button(GENERIC.close, "dismiss", false));
    }
    banner.appendChild(el("p", { class: "charter-status", role: "status", "aria-live": "polite" }));
    banner.appendChild(actions);
    banner.addEventListener("click", onAction);
    // First in the document, so it is also first for the keyboard; it does not take focus.
    d.body.insertBefore(banner, d.body.firstChild);
  }

  function onAction(event) {
    var target = event.target.closest ? event.target.closest("button[data-action]") : null;
    if (!target) {
      return;
    }
    var action = target.getAttribute("data-action");
    var container = target.closest(".charter-banner, .charter-dialog");
    if (action === "accept") {
      save(acceptAll(), container);
    } else if (action === "reject") {
      save(rejectAll(), container);
    } else if (action === "settings") {
      openDialog(target);
    } else if (action === "save") {
      save(readSwitches(), container);
    } else if (action === "close") {
      closeDialog();
    } else if (action === "retry") {
      start(true);
    } else if (action === "dismiss") {
      removeBanner();
    }
  }

  function save(choices, container) {
    setBusy(container, true);
    status(container, GENERIC.saving);
    record(choices).then(
      function (id) {
        stored = { v: config.statement_version, id: id, c: choices };
        writeCookie(stored.v, id, choices);
        closeDialog();
        removeBanner();
        apply(choices, "banner");
      },
      function (error) {
        setBusy(container, false);
        if (error && error.status === 409) {
          status(container, GENERIC.stale);
          closeDialog();
          start(true);
        } else {
          status(container, GENERIC.failed);
        }
      }
    );
  }

  // --- the settings dialog: modal, focus kept inside, Escape closes, focus returns -------

  function initial(cls) {
    if (cls.required) {
      return true;
    }
    if (current && Object.prototype.hasOwnProperty.call(current, cls.id)) {
      return current[cls.id] === true;
    }
    return cls.default && !signalled(cls);
  }

  function openDialog(from) {
    if (!config) {
      start(true);
      return;
    }
    closeDialog();
    opener = from || d.activeElement;
    uid += 1;
    var titleId = "charter-dialog-title-" + uid;
    var bodyId = "charter-dialog-body-" + uid;
    overlay = el("div", { class: "charter-overlay" });
    var dialog = el("div", {
      class: "charter-dialog",
      role: "dialog",
      "aria-modal": "true",
      "aria-labelledby": titleId,
      "aria-describedby": bodyId,
      tabindex: "-1"
    });
    dialog.appendChild(el("h2", { id: titleId, class: "charter-title" }, config.text.dialog_title));
    dialog.appendChild(el("p", { id: bodyId }, config.text.dialog_body));
    signalNote(dialog);
    var list = el("ul", { class: "charter-classes" });
    config.classes.forEach(function (cls) {
      var switchId = "charter-switch-" + cls.id + "-" + uid;
      var descId = "charter-desc-" + cls.id + "-" + uid;
      var item = el("li", { class: "charter-class" });
      var head = el("div", { class: "charter-class-head" });
      head.appendChild(el("label", { for: switchId }, cls.name));
      var input = el("input", {
        type: "checkbox",
        role: "switch",
        id: switchId,
        "data-class": cls.id,
        "aria-describedby": descId
      });
      input.checked = initial(cls);
      input.disabled = cls.required;
      head.appendChild(input);
      if (cls.required) {
        head.appendChild(el("span", { class: "charter-always" }, config.text.always_on));
      }
      item.appendChild(head);
      var desc = el("div", { id: descId, class: "charter-desc" });
      desc.appendChild(el("p", {}, cls.description));
      if (cls.purposes.length) {
        var names = cls.purposes.map(function (p) {
          return p.name;
        });
        desc.appendChild(el("p", { class: "charter-purposes" }, config.text.used_for + " " + names.join("; ") + "."));
      }
      item.appendChild(desc);
      list.appendChild(item);
    });
    dialog.appendChild(list);
    dialog.appendChild(el("p", { class: "charter-status", role: "status", "aria-live": "polite" }));
    var actions = el("div", { class: "charter-actions" });
    actions.appendChild(button(config.text.save, "save", true));
    actions.appendChild(button(config.text.accept_all, "accept", false));
    actions.appendChild(button(config.text.reject, "reject", false));
    actions.appendChild(button(config.text.close, "close", false));
    dialog.appendChild(actions);
    dialog.addEventListener("click", onAction);
    dialog.addEventListener("keydown", onDialogKey);
    overlay.appendChild(dialog);
    d.body.appendChild(overlay);
    var first = dialog.querySelector("input:not([disabled])") || dialog;
    first.focus();
  }

  function readSwitches() {
    var choices = {};
    var inputs = overlay ? overlay.querySelectorAll("input[data-class]") : [];
    for (var i = 0; i < inputs.length; i++) {
      if (!inputs[i].disabled) {
        choices[inputs[i].getAttribute("data-class")] = inputs[i].checked;
      }
    }
    return choices;
  }

  function focusable(container) {
    var all = container.querySelectorAll("button, input, a[href], select, textarea, [tabindex]");
    var found = [];
    for (var i = 0; i < all.length; i++) {
      if (!all[i].disabled && all[i].getAttribute("tabindex") !== "-1") {
        found.push(all[i]);
      }
    }
    return found;
  }

  function onDialogKey(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      closeDialog();
      return;
    }
    if (event.key !== "Tab") {
      return;
    }
    var items = focusable(event.currentTarget);
    if (!items.length) {
      event.preventDefault();
      return;
    }
    var first = items[0];
    var last = items[items.length - 1];
    if (event.shiftKey && (d.activeElement === first || d.activeElement === event.currentTarget)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && d.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  function closeDialog() {
    if (!overlay) {
      return;
    }
    overlay.parentNode.removeChild(overlay);
    overlay = null;
    var back = opener;
    opener = null;
    if (back && d.contains(back) && typeof back.focus === "function") {
      back.focus();
    }
  }

  // --- start ---------------------------------------------------------------------------

  function addStyles() {
    if (!base || d.querySelector("link[data-charter-styles]")) {
      return;
    }
    var link = el("link", { rel: "stylesheet", href: base + "/static/charter-consent.css", "data-charter-styles": "" });
    d.head.appendChild(link);
  }

  function start(retrying) {
    loadConfig().then(
      function (loaded) {
        config = loaded;
        if (!stored || stored.v !== config.statement_version) {
          showBanner(); // no choice yet, or one made under another statement: ask (again)
        } else if (retrying) {
          removeBanner();
        }
      },
      function () {
        config = null;
        if (!stored) {
          showBanner(); // generic text; nothing is recorded and nothing but necessary cookies run
        } else if (retrying) {
          removeBanner();
        }
      }
    );
  }

  w.Charter.consent = {
    /** The choice in force ({necessary: true, functional: …, analytics: …, marketing: …}) or null. */
    get: snapshot,
    /** Whether a class ("analytics", …) may run now. Necessary always may; nothing else before a choice. */
    allowed: allowed,
    /** Open the settings dialog (e.g. from a "Cookie settings" link in the site's footer). */
    open: function () {
      openDialog(d.activeElement);
    },
    /** The browser's privacy signals as the script read them. */
    signals: { gpc: signals.gpc, dnt: signals.dnt }
  };

  function boot() {
    addStyles();
    if (current) {
      apply(current, "stored");
    }
    start(false);
  }

  if (d.readyState === "loading") {
    d.addEventListener("DOMContentLoaded", boot);
  } else {
    boot();
  }
})();
