// The whistle form on a phone: item search in both languages, photo thumbnails, the map
// (grid outlines, tap to pin, "use my location", grid hint by point-in-polygon) and a submit
// that survives a bad network. Translated strings come from data- attributes of the form.
// Without this file the form still works as a plain POST.
(function () {
  "use strict";

  var form = document.getElementById("whistle-form");
  if (!form) {
    return;
  }
  var msg = function (name) {
    return form.getAttribute("data-msg-" + name) || "";
  };

  // --- item search ------------------------------------------------------------------------

  function setupItemSearch() {
    var search = document.getElementById("item-search");
    var select = document.getElementById(search && search.getAttribute("aria-controls"));
    var status = document.getElementById("item-search-status");
    if (!search || !select) {
      return;
    }
    // Keep the full list, then rebuild the select from the matches: hidden <option>s are
    // not hidden on every phone.
    var groups = [];
    var placeholder = null;
    Array.prototype.forEach.call(select.children, function (child) {
      if (child.tagName === "OPTGROUP") {
        groups.push({ group: child, options: Array.prototype.slice.call(child.children) });
      } else if (!placeholder) {
        placeholder = child;
      }
    });

    function matches(option, terms) {
      var text = (option.getAttribute("data-search") || option.textContent).toLowerCase();
      return terms.every(function (term) {
        return text.indexOf(term) !== -1;
      });
    }

    search.addEventListener("input", function () {
      var terms = search.value.toLowerCase().trim().split(/\s+/).filter(Boolean);
      var chosen = select.value;
      var count = 0;
      var first = null;
      while (select.firstChild) {
        select.removeChild(select.firstChild);
      }
      if (placeholder) {
        select.appendChild(placeholder);
      }
      groups.forEach(function (entry) {
        var shown = entry.options.filter(function (option) {
          return !terms.length || matches(option, terms);
        });
        while (entry.group.firstChild) {
          entry.group.removeChild(entry.group.firstChild);
        }
        shown.forEach(function (option) {
          entry.group.appendChild(option);
          first = first || option;
        });
        count += shown.length;
        if (shown.length) {
          select.appendChild(entry.group);
        }
      });
      if (terms.length && count === 1 && first) {
        select.value = first.value;
      } else {
        select.value = chosen;
      }
      if (select.value !== chosen) {
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      status.textContent = terms.length && !count ? msg("no-match") : "";
    });
  }

  // --- photo thumbnails -------------------------------------------------------------------

  function setupPhotos() {
    var input = form.querySelector('input[type="file"][name="photos"]');
    var list = document.getElementById("photo-previews");
    if (!input || !list || !window.URL || !URL.createObjectURL) {
      return;
    }
    var urls = [];
    input.addEventListener("change", function () {
      urls.forEach(function (url) {
        URL.revokeObjectURL(url);
      });
      urls = [];
      list.textContent = "";
      Array.prototype.forEach.call(input.files || [], function (file) {
        var item = document.createElement("li");
        var caption = document.createElement("span");
        caption.textContent = file.name;
        if (file.type && file.type.indexOf("image/") === 0) {
          var url = URL.createObjectURL(file);
          urls.push(url);
          var image = document.createElement("img");
          image.src = url;
          image.alt = file.name;
          item.appendChild(image);
        }
        item.appendChild(caption);
        list.appendChild(item);
      });
    });
  }

  // --- coordinates: WGS-84 as stored, GCJ-02 for tiles that need it (geo.js) -------------

  var geo = window.WhistleGeo;
  var shown = geo.projection(form.getAttribute("data-tile-crs"));

  function toDisplay(lat, lng) {
    return shown.toDisplay(lat, lng);
  }

  function fromDisplay(lat, lng) {
    return shown.fromDisplay(lat, lng);
  }

  function gridAt(features, lat, lng) {
    return geo.featureAt(features, lat, lng);
  }

  // --- the map ----------------------------------------------------------------------------

  var leafletLoading = null;
  function loadLeaflet() {
    if (window.L) {
      return Promise.resolve(window.L);
    }
    if (!leafletLoading) {
      leafletLoading = new Promise(function (resolve, reject) {
        var style = document.createElement("link");
        style.rel = "stylesheet";
        style.href = form.getAttribute("data-leaflet-css");
        document.head.appendChild(style);
        var script = document.createElement("script");
        script.src = form.getAttribute("data-leaflet-js");
        script.onload = function () {
          resolve(window.L);
        };
        script.onerror = function () {
          leafletLoading = null;
          reject(new Error("Leaflet did not load"));
        };
        document.head.appendChild(script);
      });
    }
    return leafletLoading;
  }

  function setupMap() {
    var latInput = form.querySelector('input[name="latitude"]');
    var lngInput = form.querySelector('input[name="longitude"]');
    var gridSelect = form.querySelector('select[name="grid"]');
    var status = document.getElementById("location-status");
    var button = document.getElementById("use-location");
    var element = document.getElementById("whistle-map");
    var features = [];
    var map = null;
    var marker = null;

    function describe(lat, lng) {
      var text = lat.toFixed(6) + ", " + lng.toFixed(6);
      var feature = features.length ? gridAt(features, lat, lng) : null;
      if (feature) {
        var p = feature.properties || {};
        text += " · " + msg("in-grid") + " " + p.code + " " + p.name + " (" + p.village + ")";
      } else if (features.length) {
        text += " · " + msg("outside");
      }
      status.textContent = text;
    }

    function place(lat, lng, fromUser) {
      latInput.value = lat.toFixed(7);
      lngInput.value = lng.toFixed(7);
      if (map) {
        var shown = toDisplay(lat, lng);
        if (marker) {
          marker.setLatLng(shown);
        } else {
          marker = window.L.marker(shown, { keyboard: false, interactive: false }).addTo(map);
        }
        if (fromUser) {
          map.setView(shown, Math.max(map.getZoom(), 16));
        }
      }
      if (gridSelect) {
        gridSelect.value = ""; // the server finds the grid from the point
      }
      describe(lat, lng);
      document.body.dispatchEvent(new Event("located"));
    }

    // The grids come first (the "in grid" hint needs no map); Leaflet and its stylesheet are
    // loaded when the map comes near the screen, or the location is asked for: they are half
    // of the page's weight, and the first fields can be filled in without them.
    var grids = fetch(form.getAttribute("data-grids-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (collection) {
        features = collection.features || [];
        if (latInput.value && lngInput.value && !map) {
          describe(parseFloat(latInput.value), parseFloat(lngInput.value));
        }
        return collection;
      });
    grids.catch(function () {
      status.textContent = msg("no-grids");
    });

    function drawMap() {
      var L = window.L;
      // The icons' folder named (Leaflet's guess fails with hashed static names), a plain-text
      // credit without the flag icon, the configured tiles or outlines only: geo.js.
      map = geo.leafletMap(element, {
        iconPath: form.getAttribute("data-icon-path"),
        tileUrl: form.getAttribute("data-tile-url"),
        tileAttribution: form.getAttribute("data-tile-attribution"),
      });
      map.on("click", function (event) {
        var point = fromDisplay(event.latlng.lat, event.latlng.lng);
        place(point[0], point[1], false);
      });
      grids
        .then(function (collection) {
          var layer = L.geoJSON(collection, {
            coordsToLatLng: function (coords) {
              var shown = toDisplay(coords[1], coords[0]);
              return L.latLng(shown[0], shown[1]);
            },
            style: function (feature) {
              return {
                color: feature.properties.own ? "#b45309" : "#1d4ed8",
                weight: feature.properties.own ? 3 : 1.5,
                fillOpacity: 0.08,
              };
            },
            onEachFeature: function (feature, shape) {
              var p = feature.properties;
              shape.bindTooltip(p.code + " " + p.name);
              // A tap on a grid places the pin there too (the polygon takes the click).
              shape.on("click", function (event) {
                var point = fromDisplay(event.latlng.lat, event.latlng.lng);
                place(point[0], point[1], false);
              });
            },
          }).addTo(map);
          if (latInput.value && lngInput.value) {
            place(parseFloat(latInput.value), parseFloat(lngInput.value), true);
          } else if (features.length) {
            map.fitBounds(layer.getBounds());
          }
        })
        .catch(function () {});
    }

    var leaflet = null;
    function loadMap() {
      if (!leaflet && element) {
        leaflet = loadLeaflet().then(drawMap, function () {
          status.textContent = msg("no-grids");
        });
      }
      return leaflet;
    }

    if (element) {
      if (window.L) {
        loadMap();
      } else if (window.IntersectionObserver) {
        var watcher = new IntersectionObserver(
          function (entries) {
            if (
              entries.some(function (entry) {
                return entry.isIntersecting;
              })
            ) {
              watcher.disconnect();
              loadMap();
            }
          },
          { rootMargin: "200px 0px" }
        );
        watcher.observe(element);
      } else {
        loadMap();
      }
    }

    form.addEventListener("whistle:form-reset", function () {
      if (marker && map) {
        map.removeLayer(marker);
      }
      marker = null;
      status.textContent = "";
    });

    if (button) {
      button.addEventListener("click", function () {
        if (!navigator.geolocation) {
          status.textContent = msg("geo-unsupported");
          return;
        }
        status.textContent = msg("locating");
        loadMap();
        navigator.geolocation.getCurrentPosition(
          function (position) {
            place(position.coords.latitude, position.coords.longitude, true);
          },
          function () {
            status.textContent = msg("geo-failed");
          },
          { enableHighAccuracy: true, timeout: 15000, maximumAge: 5000 } // a fresh position, not one from a minute ago
        );
      });
    }
  }

  // --- a submit that survives a bad network -----------------------------------------------

  function setupSubmit() {
    var status = document.getElementById("submit-status");
    var sending = false;

    function keepOffline() {
      return saveDraft().then(
        function () {
          status.textContent = msg("saved");
        },
        function () {
          status.textContent = msg("network"); // no storage on this browser: the form keeps it
        }
      );
    }

    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) {
        return; // a plain POST
      }
      if (event.submitter && event.submitter.hasAttribute("formaction")) {
        return; // "me too" on a case nearby: a plain POST to that case's action
      }
      event.preventDefault();
      if (sending) {
        return; // a double tap; the idempotency key would make it harmless anyway
      }
      sending = true;
      var button = form.querySelector('button[type="submit"]');
      if (navigator.onLine === false && drafts) {
        keepOffline().then(function () {
          sending = false;
        });
        return;
      }
      button.setAttribute("aria-busy", "true");
      status.textContent = msg("sending");
      fetch(form.action, {
        method: "POST",
        body: new FormData(form), // the same idempotency key on every retry
        credentials: "same-origin",
        headers: { "X-Whistle-Fetch": "1" },
      })
        .then(function (response) {
          var target = response.headers.get("X-Whistle-Redirect");
          if (target) {
            window.location.assign(target);
            return null;
          }
          if (response.redirected) {
            window.location.assign(response.url);
            return null;
          }
          return response.text().then(function (html) {
            document.open();
            document.write(html);
            document.close();
          });
        })
        .catch(function () {
          // No answer (no network, or it broke mid-way): kept as a draft, sent again with the
          // same idempotency key, so a whistle that did reach the server is not filed twice.
          if (drafts) {
            return keepOffline().then(function () {
              if (app.scheduleRetry) {
                app.scheduleRetry();
              }
            });
          }
          status.textContent = msg("network");
          return null;
        })
        .then(function () {
          sending = false;
          button.removeAttribute("aria-busy");
        });
    });
  }

  // --- whistles kept on the phone while there is no network (drafts.js) ------------------

  var drafts = window.indexedDB && window.WhistleDrafts;
  var app = window.WhistleApp || { config: {} };
  var keyInput = form.querySelector('input[name="idempotency_key"]');
  var MAX_SIDE = 1600; // a phone photo is resized to this longest side before it is kept
  var QUALITY = 0.8;

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  // A page shown from the service worker's cache is the same page every time: each whistle
  // composed on it needs a key of its own. A form sent back with errors keeps its key.
  if (keyInput && !form.hasAttribute("data-bound") && window.crypto) {
    keyInput.value = newKey();
  }

  function loadImage(file) {
    if (window.createImageBitmap) {
      return window.createImageBitmap(file, { imageOrientation: "from-image" });
    }
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var image = new Image();
      image.onload = function () {
        URL.revokeObjectURL(url);
        resolve(image);
      };
      image.onerror = function () {
        URL.revokeObjectURL(url);
        reject(new Error("not an image"));
      };
      image.src = url;
    });
  }

  // The photo as a JPEG of at most MAX_SIDE pixels: a 12-megapixel photo is kept (and later
  // sent over a weak signal) at a tenth of its size. What cannot be decoded is kept as it is.
  function shrink(file) {
    var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
    if (!file.type || file.type.indexOf("image/") !== 0) {
      return Promise.resolve({ name: file.name, blob: file });
    }
    return loadImage(file)
      .then(function (image) {
        var scale = Math.min(1, MAX_SIDE / Math.max(image.width, image.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(image.width * scale));
        canvas.height = Math.max(1, Math.round(image.height * scale));
        canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
        if (image.close) {
          image.close();
        }
        return new Promise(function (resolve) {
          canvas.toBlob(resolve, "image/jpeg", QUALITY);
        });
      })
      .then(function (blob) {
        return blob ? { name: name, blob: blob } : { name: file.name, blob: file };
      })
      .catch(function () {
        return { name: file.name, blob: file };
      });
  }

  function resetForm() {
    form.reset();
    if (keyInput) {
      keyInput.value = newKey();
    }
    // Photos kept on the server from an earlier try belong to the draft now.
    Array.prototype.forEach.call(
      form.querySelectorAll('input[name="pending_photos"], .kept-photos'),
      function (element) {
        element.parentNode.removeChild(element);
      }
    );
    var previews = document.getElementById("photo-previews");
    if (previews) {
      previews.textContent = "";
    }
    var search = document.getElementById("item-search");
    if (search) {
      search.dispatchEvent(new Event("input"));
    }
    form.dispatchEvent(new Event("whistle:form-reset"));
  }

  function requestSync() {
    if (!("serviceWorker" in navigator)) {
      return;
    }
    navigator.serviceWorker.ready
      .then(function (registration) {
        // Background Sync: the worker sends the drafts when the network is back, even if
        // every page is closed by then. Elsewhere the pages send them (app.js).
        return registration.sync ? registration.sync.register("whistle-drafts") : null;
      })
      .catch(function () {});
  }

  function saveDraft() {
    if (!drafts) {
      return Promise.reject(new Error("no storage"));
    }
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string") {
        fields.push([name, value]);
      }
    });
    var input = form.querySelector('input[type="file"][name="photos"]');
    var files = Array.prototype.slice.call((input && input.files) || []);
    var select = form.querySelector('select[name="item"]');
    var option = select && select.selectedIndex >= 0 ? select.options[select.selectedIndex] : null;
    return Promise.all(files.map(shrink))
      .then(function (photos) {
        return drafts.save({
          user: String(app.config.user),
          action: form.action,
          fields: fields,
          photos: photos,
          item: option && option.value ? option.textContent.trim() : "",
          createdAt: Date.now(),
          status: "waiting",
        });
      })
      .then(function () {
        if (navigator.storage && navigator.storage.persist) {
          navigator.storage.persist().catch(function () {});
        }
        requestSync();
        resetForm();
        renderDrafts();
      });
  }

  var draftBox = document.getElementById("drafts");
  var draftList = document.getElementById("draft-list");
  var draftMsg = function (name) {
    return (draftBox && draftBox.getAttribute("data-msg-" + name)) || "";
  };

  function photoCount(count) {
    if (!count) {
      return draftMsg("no-photo");
    }
    return count === 1 ? draftMsg("one-photo") : draftMsg("photos").replace("{count}", count);
  }

  function renderDrafts() {
    if (!drafts || !draftBox || app.config.user == null) {
      return;
    }
    drafts
      .list(app.config.user)
      .then(function (items) {
        draftList.textContent = "";
        draftBox.hidden = !items.length;
        var lang = document.documentElement.lang || undefined;
        items.forEach(function (draft) {
          var entry = document.createElement("li");
          entry.setAttribute("data-testid", "draft");
          entry.setAttribute("data-status", draft.status);
          var title = document.createElement("strong");
          title.textContent = draft.item || draftMsg("no-item");
          entry.appendChild(title);
          var when = new Date(draft.createdAt).toLocaleString(lang);
          var facts = document.createElement("span");
          facts.textContent = " · " + when + " · " + photoCount((draft.photos || []).length);
          entry.appendChild(facts);
          var state = document.createElement("div");
          if (draft.status === "attention") {
            state.className = "draft-attention";
            state.textContent = draftMsg("attention") + (draft.message ? " " + draft.message : "");
            var discard = document.createElement("button");
            discard.type = "button";
            discard.className = "secondary outline";
            discard.textContent = draftMsg("discard");
            discard.addEventListener("click", function () {
              if (window.confirm(draftMsg("confirm-discard"))) {
                drafts.remove(draft.id);
              }
            });
            state.appendChild(document.createElement("br"));
            state.appendChild(discard);
          } else {
            state.textContent = draftMsg("waiting");
          }
          entry.appendChild(state);
          draftList.appendChild(entry);
        });
      })
      .catch(function () {});
  }

  document.addEventListener("whistle:drafts-changed", renderDrafts);

  setupItemSearch();
  setupPhotos();
  setupMap();
  setupSubmit();
  renderDrafts();
})();
