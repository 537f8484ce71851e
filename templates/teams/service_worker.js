// Whistle's service worker (served by teams.views_app from the site root, scope "/").
// Static files: cache first (their names carry a hash). A few pages (the whistle form, the
// grid worker's cases, ...): network first, the last version seen when there is no network.
// Never a POST, and the pages' cache is emptied at every sign-in and sign-out, so one user
// never sees another's pages. Whistles composed offline are IndexedDB drafts (drafts.js),
// sent by the "sync" event here or by the pages, once each (a claim, and the server's
// idempotency key). Web Push: "push" shows the alert, a tap opens its page.
"use strict";

var VERSION = {{ version|safe }};
var STATIC_CACHE = "whistle-static-" + VERSION;
var PAGES_CACHE = "whistle-pages-" + VERSION;
var STATIC_URLS = {{ static_urls|safe }};
var OFFLINE_PAGES = {{ offline_pages|safe }};
var PRECACHE_PAGES = {{ precache_pages|safe }};
var SIGN_IN_PATHS = {{ sign_in_paths|safe }};
var OFFLINE_TITLE = {{ offline_title|safe }};
var OFFLINE_TEXT = {{ offline_text|safe }};
var APP_NAME = {{ app_name|safe }};
var ICON = STATIC_URLS[1];

importScripts({{ drafts_js|safe }});

function cachePage(cache, request, response) {
  if (response.ok && !response.redirected && response.type === "basic") {
    return cache.put(request, response.clone()).then(function () {
      return response;
    });
  }
  return Promise.resolve(response);
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches
      .open(STATIC_CACHE)
      .then(function (cache) {
        return cache.addAll(STATIC_URLS);
      })
      .then(function () {
        // The pages are the signed-in user's: kept only when they answer as pages.
        return caches.open(PAGES_CACHE).then(function (cache) {
          return Promise.all(
            PRECACHE_PAGES.map(function (url) {
              return fetch(url, { credentials: "same-origin" })
                .then(function (response) {
                  return cachePage(cache, new Request(url), response);
                })
                .catch(function () {
                  return null;
                });
            })
          );
        });
      })
      .then(function () {
        return self.skipWaiting();
      })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (names) {
        return Promise.all(
          names
            .filter(function (name) {
              return name.indexOf("whistle-") === 0 && name !== STATIC_CACHE && name !== PAGES_CACHE;
            })
            .map(function (name) {
              return caches.delete(name);
            })
        );
      })
      .then(function () {
        return self.clients.claim();
      })
  );
});

function offlineResponse() {
  var html =
    '<!doctype html><html><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title></title></head>' +
    "<body><h1></h1><p></p></body></html>";
  // The text goes in as text: no markup from the translation reaches the page.
  html = html
    .replace("<title></title>", "<title>" + escapeHtml(OFFLINE_TITLE) + "</title>")
    .replace("<h1></h1>", "<h1>" + escapeHtml(OFFLINE_TITLE) + "</h1>")
    .replace("<p></p>", "<p>" + escapeHtml(OFFLINE_TEXT) + "</p>");
  return new Response(html, {
    status: 503,
    headers: { "Content-Type": "text/html; charset=utf-8" },
  });
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
}

function networkFirst(request) {
  return caches.open(PAGES_CACHE).then(function (cache) {
    return fetch(request)
      .then(function (response) {
        return cachePage(cache, request, response);
      })
      .catch(function () {
        // Vary (Cookie, Accept-Language) does not matter here: the cache holds one user's
        // pages and is emptied at every sign-in and sign-out.
        return cache
          .match(request, { ignoreVary: true })
          .then(function (hit) {
            return hit || cache.match(request, { ignoreVary: true, ignoreSearch: true });
          })
          .then(function (hit) {
            if (hit) {
              return hit;
            }
            if (request.mode === "navigate") {
              return offlineResponse();
            }
            return Response.error();
          });
      });
  });
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    if (hit) {
      return hit;
    }
    return fetch(request).then(function (response) {
      if (response.ok && response.type === "basic") {
        var copy = response.clone();
        caches.open(STATIC_CACHE).then(function (cache) {
          cache.put(request, copy);
        });
      }
      return response;
    });
  });
}

function forgetPages() {
  // Another user may sign in next: their pages only, and the drafts wait for their author.
  return Promise.all([
    caches.delete(PAGES_CACHE),
    self.WhistleDrafts.setUser(null).catch(function () {}),
  ]);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method !== "GET") {
    if (request.method === "POST" && SIGN_IN_PATHS.indexOf(url.pathname) !== -1) {
      event.waitUntil(forgetPages());
    }
    return; // POSTs go to the network as they are, never to a cache
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(cacheFirst(request));
    return;
  }
  if (OFFLINE_PAGES.indexOf(url.pathname) !== -1) {
    event.respondWith(networkFirst(request));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).catch(function () {
        return offlineResponse();
      })
    );
  }
});

// --- drafts of whistles composed offline ---------------------------------------------------

self.addEventListener("sync", function (event) {
  if (event.tag === "whistle-drafts") {
    // A rejection tells the browser to try again later (with its own back-off).
    event.waitUntil(
      self.WhistleDrafts.sendWaiting({}).then(function (outcome) {
        if (outcome.retry) {
          throw new Error("drafts still waiting for the network");
        }
      })
    );
  }
});

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "send-drafts") {
    event.waitUntil(self.WhistleDrafts.sendWaiting({}));
  }
});

// --- Web Push ----------------------------------------------------------------------------

function sameOriginUrl(value) {
  try {
    var url = new URL(value || "/", self.location.origin);
    return url.origin === self.location.origin ? url.href : self.location.origin + "/";
  } catch (error) {
    return self.location.origin + "/";
  }
}

self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try {
      data = event.data.json();
    } catch (error) {
      data = { body: event.data.text() };
    }
  }
  var options = {
    body: data.body || "",
    icon: ICON,
    data: { url: sameOriginUrl(data.url) },
  };
  if (data.tag) {
    options.tag = String(data.tag);
  }
  event.waitUntil(self.registration.showNotification(data.title || APP_NAME, options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = (event.notification.data && event.notification.data.url) || sameOriginUrl("/");
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
      for (var i = 0; i < list.length; i++) {
        if (list[i].url === target && "focus" in list[i]) {
          return list[i].focus();
        }
      }
      return self.clients.openWindow(target);
    })
  );
});
