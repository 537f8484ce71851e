// The case detail page: the map of the grid and the pin, and small helpers of the action
// forms. Loaded as a file (no inline script) so a strict Content-Security-Policy can apply.
(function () {
  "use strict";

  function initMap() {
    var holder = document.getElementById("case-map");
    var source = document.getElementById("case-map-data");
    if (!holder || !source || typeof L === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    // One coordinate rule for every map (static/js/geo.js): stored WGS-84, shown in the
    // tiles' system.
    var projection = window.WhistleGeo.projection(data.crs);
    var convert = function (lng, lat) {
      var shown = projection.toDisplay(lat, lng);
      return [shown[1], shown[0]];
    };
    var map = L.map(holder, { attributionControl: !!data.attribution, scrollWheelZoom: false });
    if (map.attributionControl) {
      // Credit Leaflet in plain text, without the flag icon of its default prefix.
      map.attributionControl.setPrefix('<a href="https://leafletjs.com" rel="noopener">Leaflet</a>');
    }
    if (data.tileUrl) {
      L.tileLayer(data.tileUrl, { attribution: data.attribution || "", maxZoom: 19 }).addTo(map);
    } else {
      holder.classList.add("no-tiles");
    }
    var bounds = null;
    if (data.polygon && data.polygon.coordinates) {
      var toRings = function (rings) {
        return rings.map(function (ring) {
          return ring.map(function (point) {
            var p = convert(point[0], point[1]);
            return [p[1], p[0]];
          });
        });
      };
      // A MultiPolygon grid: L.polygon takes a list of polygons, each a list of rings.
      var rings =
        data.polygon.type === "MultiPolygon"
          ? data.polygon.coordinates.map(toRings)
          : toRings(data.polygon.coordinates);
      var outline = L.polygon(rings, { color: "#1d4ed8", weight: 2, fillOpacity: 0.08 }).addTo(map);
      if (data.gridName) {
        outline.bindTooltip(data.gridName);
      }
      bounds = outline.getBounds();
    }
    if (data.lat !== null && data.lng !== null && data.lat !== undefined) {
      if (data.iconPath) {
        L.Icon.Default.imagePath = data.iconPath;
      }
      var at = convert(data.lng, data.lat);
      var pin = L.marker([at[1], at[0]], { keyboard: false }).addTo(map);
      bounds = bounds ? bounds.extend(pin.getLatLng()) : L.latLngBounds([pin.getLatLng()]);
    }
    if (bounds) {
      map.fitBounds(bounds, { padding: [16, 16], maxZoom: 17 });
    } else {
      map.setView([0, 0], 2);
    }
  }

  // A select of common reasons fills the text box it names, if that box is still empty.
  function initReasonPickers() {
    document.querySelectorAll("select[data-fill-target]").forEach(function (select) {
      select.addEventListener("change", function () {
        var target = document.getElementById(select.getAttribute("data-fill-target"));
        if (!target || !select.value) {
          return;
        }
        var option = select.options[select.selectedIndex];
        if (!target.value.trim() || target.getAttribute("data-filled") === "1") {
          target.value = option.text;
          target.setAttribute("data-filled", "1");
        }
      });
    });
  }

  function init() {
    initMap();
    initReasonPickers();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
