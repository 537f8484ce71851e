// The installable app on every signed-in page: registers the service worker, shows a banner
// while the phone is offline, sends the whistles left waiting (drafts.js) whenever a page
// opens or the network comes back, and runs the "turn on alerts on this phone" control of
// the inbox. Settings and the user come from the data- attributes of #whistle-app (base.html).
(function () {
  "use strict";

  var block = document.getElementById("whistle-app");
  if (!block) {
    return;
  }
  var config = {
    user: block.getAttribute("data-user"),
    csrf: block.getAttribute("data-csrf"),
    serviceWorker: block.getAttribute("data-service-worker"),
  };
  var drafts = window.WhistleDrafts;

  // --- offline banner ------------------------------------------------------------------

  var banner = document.getElementById("offline-banner");
  function showConnection() {
    if (banner) {
      banner.hidden = navigator.onLine !== false;
    }
  }
  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);
  showConnection();

  // --- waiting whistles ----------------------------------------------------------------

  // A send that met no network is tried again while the page stays open, less and less often
  // (the service worker's Background Sync, where there is one, does the same with pages closed).
  var RETRY_FIRST_MS = 15000;
  var RETRY_MAX_MS = 300000;
  var retryDelay = RETRY_FIRST_MS;
  var retryTimer = null;

  function scheduleRetry() {
    if (retryTimer) {
      return;
    }
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      sendDrafts();
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  }

  function sendDrafts() {
    if (!drafts || navigator.onLine === false) {
      return Promise.resolve(null);
    }
    var sending = drafts
      .sendWaiting({ user: config.user, csrf: config.csrf })
      .then(function (summary) {
        if (summary && summary.retry) {
          scheduleRetry();
        } else {
          retryDelay = RETRY_FIRST_MS;
        }
        return summary;
      })
      .catch(function () {
        return null;
      });
    window.WhistleApp.sending = sending;
    return sending;
  }
  window.WhistleApp = {
    config: config,
    sendDrafts: sendDrafts,
    scheduleRetry: scheduleRetry,
    sending: Promise.resolve(null),
  };

  if (drafts && window.indexedDB) {
    window.WhistleApp.sending = drafts
      .setUser(config.user)
      .then(sendDrafts)
      .catch(function () {
        return null;
      });
    window.addEventListener("online", sendDrafts);
  }

  // --- the service worker --------------------------------------------------------------

  if ("serviceWorker" in navigator && config.serviceWorker) {
    // After the page has loaded: the worker's first install downloads what the form needs
    // offline, which must not compete with the page itself over a weak signal.
    var register = function () {
      navigator.serviceWorker.register(config.serviceWorker, { scope: "/" }).catch(function () {});
    };
    if (document.readyState === "complete") {
      register();
    } else {
      window.addEventListener("load", register);
    }
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "drafts-changed") {
        document.dispatchEvent(new CustomEvent("whistle:drafts-changed"));
      }
    });
  }

  // --- alerts on this phone (Web Push) -------------------------------------------------

  function base64UrlToBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function setupAlerts() {
    var box = document.getElementById("push-alerts");
    if (!box) {
      return;
    }
    var on = document.getElementById("push-on");
    var off = document.getElementById("push-off");
    var status = document.getElementById("push-status");
    var msg = function (name) {
      return box.getAttribute("data-msg-" + name) || "";
    };
    function say(text) {
      status.textContent = text;
    }
    function post(url, body) {
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": config.csrf },
        body: JSON.stringify(body),
      }).then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (answer) {
            if (!response.ok) {
              throw new Error(answer.message || msg("failed"));
            }
            return answer;
          });
      });
    }
    function show(subscribed) {
      on.hidden = subscribed;
      off.hidden = !subscribed;
    }
    box.hidden = false;
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !window.Notification) {
      on.disabled = true;
      say(msg("unsupported"));
      return;
    }
    navigator.serviceWorker.ready
      .then(function (registration) {
        return registration.pushManager.getSubscription();
      })
      .then(function (subscription) {
        show(!!subscription);
      })
      .catch(function () {});

    on.addEventListener("click", function () {
      on.disabled = true;
      say("");
      Notification.requestPermission()
        .then(function (permission) {
          if (permission !== "granted") {
            throw new Error(msg("denied"));
          }
          return navigator.serviceWorker.ready;
        })
        .then(function (registration) {
          return registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: base64UrlToBytes(box.getAttribute("data-key")),
          });
        })
        .then(function (subscription) {
          return post(box.getAttribute("data-subscribe-url"), subscription.toJSON());
        })
        .then(function (answer) {
          show(true);
          say(answer.message || msg("on"));
        })
        .catch(function (error) {
          var text = error && error.message;
          // The browser's own refusal (no push service reachable, blocked) in plain words.
          if (!text || (error && error.name && error.name !== "Error")) {
            text = msg("refused");
          }
          say(text);
        })
        .then(function () {
          on.disabled = false;
        });
    });

    off.addEventListener("click", function () {
      off.disabled = true;
      navigator.serviceWorker.ready
        .then(function (registration) {
          return registration.pushManager.getSubscription();
        })
        .then(function (subscription) {
          if (!subscription) {
            return null;
          }
          var endpoint = subscription.endpoint;
          return subscription.unsubscribe().then(function () {
            return post(box.getAttribute("data-unsubscribe-url"), { endpoint: endpoint });
          });
        })
        .then(function (answer) {
          show(false);
          say((answer && answer.message) || msg("off"));
        })
        .catch(function (error) {
          say((error && error.message) || msg("failed"));
        })
        .then(function () {
          off.disabled = false;
        });
    });
  }

  setupAlerts();
})();
