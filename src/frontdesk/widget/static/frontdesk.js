/*
 * frontdesk chat widget: include this script after setting
 *   window.frontdeskSettings = { projectid: "<project id>" }
 * (window.tiledeskSettings is read too). It defines the host-page API, window.frontdesk
 * (alias window.tiledesk), at once, and loads the widget itself from next to this file.
 */
(function () {
  "use strict";
  if (window.frontdesk && window.frontdesk.isFrontdesk) return;

  var script = document.currentScript;
  var settings = Object.assign({}, window.tiledeskSettings || {}, window.frontdeskSettings || {});
  if (!settings.projectid) {
    console.error("frontdesk: set window.frontdeskSettings = { projectid: '…' } before the script");
    return;
  }
  var ownUrl = script && script.src ? script.src : location.href;
  var serverUrl = String(settings.serverUrl || new URL("..", ownUrl).href).replace(/\/+$/, "");

  var listeners = {};
  var widget = null;

  // Event names work with or without the "on" prefix: on("onOpen", f) and on("open", f).
  function eventName(name) {
    var bare = String(name).replace(/^on(?=[A-Z])/, "");
    return "on" + bare.charAt(0).toUpperCase() + bare.slice(1);
  }

  function emit(name, detail) {
    var event = { type: name, detail: detail };
    (listeners[name] || []).slice().forEach(function (fn) {
      try {
        fn(event);
      } catch (error) {
        console.error("frontdesk: a " + name + " listener failed", error);
      }
    });
  }

  var ready = import(new URL("lib/app.js", ownUrl).href).then(function (module) {
    widget = module.start(settings, serverUrl, emit, function (name) {
      return (listeners[name] || []).length > 0;
    });
    return widget.ready.then(function () {
      return widget;
    });
  });
  ready.catch(function (error) {
    console.error("frontdesk: the widget could not start", error);
  });

  function later(method) {
    return function () {
      var args = arguments;
      return ready.then(function (w) {
        return w[method].apply(w, args);
      });
    };
  }

  var api = {
    isFrontdesk: true,
    signInWithCustomToken: later("signInWithCustomToken"),
    signInAnonymous: later("signInAnonymous"),
    logout: later("logout"),
    open: later("open"),
    close: later("close"),
    sendMessage: later("sendMessage"),
    getUser: function () {
      return widget ? widget.getUser() : null;
    },
    // "offline" (no session yet), "connecting", "live" (the socket is up) or "polling".
    getConnectionState: function () {
      return widget ? widget.getConnectionState() : "offline";
    },
    on: function (name, fn) {
      var key = eventName(name);
      (listeners[key] = listeners[key] || []).push(fn);
      return function () {
        api.off(key, fn);
      };
    },
    off: function (name, fn) {
      var key = eventName(name);
      listeners[key] = (listeners[key] || []).filter(function (f) {
        return f !== fn;
      });
    },
  };

  // Tiledesk's snippet defines window.Tiledesk(name, ...args) with a queue of early calls.
  function tiledeskCall(name) {
    var args = Array.prototype.slice.call(arguments, 1);
    if (typeof args[0] === "function" && /^on[A-Z]/.test(name)) return api.on(name, args[0]);
    if (typeof api[name] === "function") return api[name].apply(api, args);
    console.warn("frontdesk: unknown command " + name);
  }
  var queued = (window.Tiledesk && window.Tiledesk.q) || [];
  window.Tiledesk = tiledeskCall;
  window.frontdesk = window.tiledesk = api;
  queued.forEach(function (args) {
    tiledeskCall.apply(null, args);
  });
})();
