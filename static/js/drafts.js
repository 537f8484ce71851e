// Whistles composed with no signal, kept in IndexedDB until the server has them. Shared by the
// pages (filing.js, app.js) and the service worker (importScripts), so that whichever runs
// when the network is back sends them. A draft is sent by one of them at a time (a Web Lock
// where there is one, and a claim written in the draft) and removed only once the server
// answered that it is filed; the idempotency key it carries makes a second send harmless.
(function (root) {
  "use strict";

  var DB_NAME = "whistle-offline";
  var DB_VERSION = 1;
  var CLAIM_MS = 120000; // a sender that died leaves its claim for this long
  var LOCK = "whistle-drafts";

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () {
        resolve(req.result);
      };
      req.onerror = function () {
        reject(req.error);
      };
    });
  }

  var opened = null;
  function open() {
    if (!opened) {
      var req = root.indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains("drafts")) {
          db.createObjectStore("drafts", { keyPath: "id", autoIncrement: true });
        }
        if (!db.objectStoreNames.contains("meta")) {
          db.createObjectStore("meta", { keyPath: "key" });
        }
      };
      opened = request(req).catch(function (error) {
        opened = null;
        throw error;
      });
    }
    return opened;
  }

  // Runs `work(store)` in one transaction; resolves with its result once committed.
  function transact(name, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var result;
        tx.oncomplete = function () {
          resolve(result);
        };
        tx.onerror = tx.onabort = function () {
          reject(tx.error);
        };
        Promise.resolve(work(tx.objectStore(name))).then(
          function (value) {
            result = value;
          },
          function (error) {
            reject(error);
            tx.abort();
          }
        );
      });
    });
  }

  function announce() {
    // The pages redraw their list of drafts.
    if (root.document) {
      root.document.dispatchEvent(new CustomEvent("whistle:drafts-changed"));
    } else if (root.clients) {
      root.clients.matchAll({ type: "window" }).then(function (list) {
        list.forEach(function (client) {
          client.postMessage({ type: "drafts-changed" });
        });
      });
    }
  }

  function save(draft) {
    return transact("drafts", "readwrite", function (store) {
      return request(store.add(draft));
    }).then(function (id) {
      announce();
      return id;
    });
  }

  function list(user) {
    return transact("drafts", "readonly", function (store) {
      return request(store.getAll());
    }).then(function (all) {
      return all
        .filter(function (draft) {
          return user != null && String(draft.user) === String(user);
        })
        .sort(function (a, b) {
          return a.createdAt - b.createdAt;
        });
    });
  }

  function remove(id) {
    return transact("drafts", "readwrite", function (store) {
      return request(store.delete(id));
    }).then(announce);
  }

  function change(id, changes) {
    return transact("drafts", "readwrite", function (store) {
      return request(store.get(id)).then(function (draft) {
        if (draft) {
          Object.keys(changes).forEach(function (key) {
            draft[key] = changes[key];
          });
          return request(store.put(draft));
        }
        return null;
      });
    });
  }

  // Takes the draft for this sender, unless another holds a live claim on it. One readwrite
  // transaction: IndexedDB runs two of them on one store one after the other.
  function claim(id) {
    return transact("drafts", "readwrite", function (store) {
      return request(store.get(id)).then(function (draft) {
        var now = Date.now();
        if (!draft || draft.status !== "waiting") {
          return false;
        }
        if (draft.claimedUntil && draft.claimedUntil > now) {
          return false; // another sender (a page, the worker, another call) has it
        }
        draft.claimedUntil = now + CLAIM_MS;
        return request(store.put(draft)).then(function () {
          return true;
        });
      });
    });
  }

  function setUser(user) {
    return transact("meta", "readwrite", function (store) {
      return request(store.put({ key: "user", value: user == null ? null : String(user) }));
    });
  }

  function getUser() {
    return transact("meta", "readonly", function (store) {
      return request(store.get("user"));
    }).then(function (row) {
      return row ? row.value : null;
    });
  }

  function serverMessage(response) {
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("application/json") === -1) {
      return Promise.resolve("");
    }
    return response
      .json()
      .then(function (body) {
        return (body && body.message) || "";
      })
      .catch(function () {
        return "";
      });
  }

  // One POST of a draft: "filed", "attention" (refused for good, with the server's message),
  // "retry" (no network, or the server could not take it now) or "later" (sign-in or a fresh
  // form token needed: a page will send it).
  function sendOne(draft, options) {
    var body = new FormData();
    draft.fields.forEach(function (pair) {
      var value = pair[1];
      if (pair[0] === "csrfmiddlewaretoken" && options.csrf) {
        value = options.csrf; // the token of the page open now matches the cookie now
      }
      body.append(pair[0], value);
    });
    (draft.photos || []).forEach(function (photo) {
      body.append("photos", photo.blob, photo.name);
    });
    return root
      .fetch(draft.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        redirect: "manual",
        headers: { "X-Whistle-Fetch": "1", "X-Whistle-Draft": "1" },
      })
      .then(
        function (response) {
          if (response.type === "opaqueredirect") {
            return { outcome: "later" }; // signed out: the login page
          }
          if (response.ok) {
            return { outcome: "filed", url: response.headers.get("X-Whistle-Redirect") };
          }
          if (response.status === 403 && !options.csrf) {
            return { outcome: "later" };
          }
          if (response.status === 429 || response.status === 408 || response.status >= 500) {
            return { outcome: "retry" };
          }
          return serverMessage(response).then(function (message) {
            return { outcome: "attention", status: response.status, message: message };
          });
        },
        function () {
          return { outcome: "retry" };
        }
      );
  }

  function sendAll(options) {
    var summary = { filed: 0, retry: false, attention: 0 };
    var userPromise = options.user != null ? Promise.resolve(String(options.user)) : getUser();
    return userPromise.then(function (user) {
      if (user == null) {
        return summary; // nobody signed in: a draft is sent only for its own author
      }
      return list(user).then(function (drafts) {
        var chain = Promise.resolve();
        drafts.forEach(function (draft) {
          if (draft.status !== "waiting") {
            return;
          }
          chain = chain.then(function () {
            if (summary.stop) {
              return null;
            }
            return claim(draft.id).then(function (mine) {
              if (!mine) {
                return null;
              }
              return sendOne(draft, options).then(function (result) {
                if (result.outcome === "filed") {
                  summary.filed += 1;
                  summary.lastUrl = result.url;
                  return remove(draft.id);
                }
                if (result.outcome === "attention") {
                  summary.attention += 1;
                  return change(draft.id, {
                    status: "attention",
                    message: result.message,
                    httpStatus: result.status,
                    claimedUntil: 0,
                  }).then(announce);
                }
                summary.retry = result.outcome === "retry";
                summary.stop = true; // no network (or no session): the others wait too
                return change(draft.id, { claimedUntil: 0 });
              });
            });
          });
        });
        return chain.then(function () {
          delete summary.stop;
          return summary;
        });
      });
    });
  }

  // Sends every waiting draft of the user (options.user, else the one the pages last
  // recorded), one sender at a time.
  function sendWaiting(options) {
    options = options || {};
    var locks = root.navigator && root.navigator.locks;
    if (locks && locks.request) {
      return locks.request(LOCK, function () {
        return sendAll(options);
      });
    }
    return sendAll(options);
  }

  root.WhistleDrafts = {
    save: save,
    list: list,
    remove: remove,
    setUser: setUser,
    getUser: getUser,
    sendWaiting: sendWaiting,
  };
})(self);
