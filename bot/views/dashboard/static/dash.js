/* Team Energia dashboard: the little JavaScript the pages need, and no more.
 *
 * Telegram opens the Mini App with its signed data in the address's fragment
 * (#tgWebAppData=…), which never reaches the server: this script posts it once to sign in
 * (the server then sets a short-lived session cookie), keeps it in sessionStorage for a
 * re-sign-in when the session has expired, and speaks the few words of Telegram's Mini App
 * protocol the pages use (ready, expand, back button, theme) directly — instead of loading
 * telegram-web-app.js from telegram.org, an external script on every page. Outside Telegram
 * every call is a no-op; the pages themselves are plain HTML (links and GET forms).
 */
(function () {
  "use strict";
  var INIT = "te.init", THEME = "te.theme", TRIES = "te.tries";
  var COLOR = /^#[0-9a-fA-F]{6}$/;
  var THEME_KEYS = ["bg_color", "text_color", "hint_color", "link_color", "button_color",
    "button_text_color", "secondary_bg_color"];

  function store(key, value) { try { sessionStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function load(key) { try { return sessionStorage.getItem(key); } catch (e) { return null; } }

  function hashParams() {
    var out = {}, hash = location.hash.replace(/^#/, "");
    hash.split("&").forEach(function (pair) {
      var i = pair.indexOf("=");
      if (i <= 0) { return; }
      try {
        out[decodeURIComponent(pair.slice(0, i))] =
          decodeURIComponent(pair.slice(i + 1).replace(/\+/g, "%20"));
      } catch (e) { /* a malformed pair: skip it */ }
    });
    return out;
  }

  // --- Telegram's Mini App protocol (core.telegram.org/api/web-events) -------------------
  function post(type, data) {
    var payload = data === undefined ? "" : data;
    try {
      if (window.TelegramWebviewProxy) {            // Android, iOS, Telegram Desktop
        window.TelegramWebviewProxy.postEvent(type, JSON.stringify(payload));
      } else if (window.external && "notify" in window.external) {   // Windows Phone
        window.external.notify(JSON.stringify({ eventType: type, eventData: payload }));
      } else if (window.parent !== window) {         // web.telegram.org (an iframe)
        window.parent.postMessage(JSON.stringify({ eventType: type, eventData: payload }),
          "https://web.telegram.org");
      }
    } catch (e) { /* not inside Telegram */ }
  }
  var handlers = {};
  function receive(type, data) { if (handlers[type]) { handlers[type](data); } }
  window.Telegram = window.Telegram || {};
  window.Telegram.WebView = { receiveEvent: receive };  // how the apps call us back
  window.TelegramGameProxy = { receiveEvent: receive };
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) { return; }
    try {
      var message = JSON.parse(event.data);
      if (message && message.eventType) { receive(message.eventType, message.eventData); }
    } catch (e) { /* not for us */ }
  });

  function applyTheme(raw) {
    var theme;
    try { theme = typeof raw === "string" ? JSON.parse(raw) : raw; } catch (e) { return; }
    if (!theme) { return; }
    var style = document.documentElement.style;
    THEME_KEYS.forEach(function (key) {
      if (COLOR.test(theme[key] || "")) {
        style.setProperty("--tg-" + key.replace(/_/g, "-"), theme[key]);
      }
    });
  }

  var params = hashParams();
  if (params.tgWebAppData) { store(INIT, params.tgWebAppData); }
  if (params.tgWebAppThemeParams) { store(THEME, params.tgWebAppThemeParams); }
  applyTheme(load(THEME));
  handlers.theme_changed = function (data) {
    if (data && data.theme_params) {
      store(THEME, JSON.stringify(data.theme_params));
      applyTheme(data.theme_params);
    }
  };

  function say(key, text) {
    var status = document.getElementById("boot-status");
    var template = key ? document.querySelector('[data-msg="' + key + '"]') : null;
    if (status) { status.textContent = text || (template ? template.textContent : ""); }
  }

  function signIn(body) {
    var init = params.tgWebAppData || load(INIT);
    if (!init) { say("outside"); return; }
    var tries = parseInt(load(TRIES) || "0", 10);
    if (tries >= 3) { store(TRIES, "0"); say("cookies"); return; }
    store(TRIES, String(tries + 1));
    var form = new URLSearchParams();
    form.set("init_data", init);
    form.set("next", body.getAttribute("data-next") || "");
    fetch(body.getAttribute("data-signin"), {
      method: "POST", body: form, credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (response.ok && answer.next) {
          location.replace(answer.next);
        } else {
          store(TRIES, "0");
          if (answer.expired) { try { sessionStorage.removeItem(INIT); } catch (e) { /* ignore */ } }
          say(null, answer.error);
        }
      });
    }).catch(function () { say("network"); });
  }

  function start() {
    var body = document.body, page = body.getAttribute("data-page");
    if (page === "boot") { signIn(body); return; }
    if (page !== "app") { return; }
    store(TRIES, "0");
    post("web_app_ready");
    post("web_app_expand");
    var back = body.getAttribute("data-back");
    post("web_app_setup_back_button", { is_visible: !!back });
    if (back) { handlers.back_button_pressed = function () { location.href = back; }; }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
