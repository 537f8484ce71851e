// The case detail page: the map of the grid and the pin, and small helpers of the action
// forms. Loaded as a file (no inline script) so a strict Content-Security-Policy can apply.
(function () {
  "use strict";

  // WGS-84 -> GCJ-02, for tile sources that use the Chinese offset (AMap, Tencent).
  var A = 6378245.0;
  var EE = 0.00669342162296594323;

  function outOfChina(lng, lat) {
    return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }

  function transformLat(x, y) {
    var ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    ret += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
    ret += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
    ret += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
    return ret;
  }

  function transformLng(x, y) {
    var ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    ret += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
    ret += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
    ret += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
    return ret;
  }

  function toGcj02(lng, lat) {
    if (outOfChina(lng, lat)) {
      return [lng, lat];
    }
    var dLat = transformLat(lng - 105.0, lat - 35.0);
    var dLng = transformLng(lng - 105.0, lat - 35.0);
    var radLat = (lat / 180.0) * Math.PI;
    var magic = Math.sin(radLat);
    magic = 1 - EE * magic * magic;
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
    dLng = (dLng * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
    return [lng + dLng, lat + dLat];
  }

  function initMap() {
    var holder = document.getElementById("case-map");
    var source = document.getElementById("case-map-data");
    if (!holder || !source || typeof L === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var convert = data.crs === "gcj02" ? toGcj02 : function (lng, lat) { return [lng, lat]; };
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
      var rings = data.polygon.coordinates.map(function (ring) {
        return ring.map(function (point) {
          var p = convert(point[0], point[1]);
          return [p[1], p[0]];
        });
      });
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
