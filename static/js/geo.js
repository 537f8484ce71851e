// Coordinates for every map (filing, case, hot spots, investigation's place):
// positions are stored in WGS-84; tiles of a Chinese provider are drawn in GCJ-02
// (WHISTLE_TILE_CRS=gcj02), so what is shown is shifted and a tap is shifted back.
(function () {
  "use strict";

  var A = 6378245.0;
  var EE = 0.00669342162296594323;

  function outOfChina(lat, lng) {
    return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }

  function transformLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
    r += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
    r += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
    return r;
  }

  function transformLng(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
    r += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
    r += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
    return r;
  }

  function wgsToGcj(lat, lng) {
    if (outOfChina(lat, lng)) {
      return [lat, lng];
    }
    var dLat = transformLat(lng - 105.0, lat - 35.0);
    var dLng = transformLng(lng - 105.0, lat - 35.0);
    var radLat = (lat / 180.0) * Math.PI;
    var magic = 1 - EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
    dLng = (dLng * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
    return [lat + dLat, lng + dLng];
  }

  function gcjToWgs(lat, lng) {
    // Invert by iteration: a few rounds bring it within centimetres.
    var wLat = lat;
    var wLng = lng;
    for (var i = 0; i < 5; i++) {
      var g = wgsToGcj(wLat, wLng);
      wLat += lat - g[0];
      wLng += lng - g[1];
    }
    return [wLat, wLng];
  }

  // Point in polygon on GeoJSON [lng, lat] rings.
  function inRing(lng, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0];
      var yi = ring[i][1];
      var xj = ring[j][0];
      var yj = ring[j][1];
      if (yi > lat !== yj > lat && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) {
        inside = !inside;
      }
    }
    return inside;
  }

  // The polygons of a GeoJSON Polygon or MultiPolygon, each a list of rings (outer first).
  function parts(geometry) {
    if (!geometry || !geometry.coordinates) {
      return [];
    }
    return geometry.type === "MultiPolygon" ? geometry.coordinates : [geometry.coordinates];
  }

  function inPart(lng, lat, rings) {
    if (!rings.length || !inRing(lng, lat, rings[0])) {
      return false;
    }
    return !rings.slice(1).some(function (hole) {
      return inRing(lng, lat, hole);
    });
  }

  function featureAt(features, lat, lng) {
    for (var i = 0; i < features.length; i++) {
      var inside = parts(features[i].geometry).some(function (rings) {
        return inPart(lng, lat, rings);
      });
      if (inside) {
        return features[i];
      }
    }
    return null;
  }

  // The display conversion for a tile CRS ("gcj02" or anything else: WGS-84).
  function projection(crs) {
    var gcj = crs === "gcj02";
    return {
      toDisplay: function (lat, lng) {
        return gcj ? wgsToGcj(lat, lng) : [lat, lng];
      },
      fromDisplay: function (lat, lng) {
        return gcj ? gcjToWgs(lat, lng) : [lat, lng];
      },
    };
  }

  // A Leaflet map with the project's setup: icons from our static folder, a plain-text
  // credit (no flag icon), the configured tiles or a blank background with outlines only.
  function leafletMap(element, options) {
    var L = window.L;
    if (options.iconPath) {
      L.Icon.Default.imagePath = options.iconPath;
    }
    var map = L.map(element, { zoomControl: true, attributionControl: true });
    map.attributionControl.setPrefix('<a href="https://leafletjs.com" rel="noopener">Leaflet</a>');
    map.setView([30.5, 120.7], 13);
    if (options.tileUrl) {
      var tiles = L.tileLayer(options.tileUrl, {
        attribution: options.tileAttribution || "",
        maxZoom: 19,
      });
      tiles.on("tileerror", function () {
        element.classList.add("whistle-map-blank");
      });
      tiles.addTo(map);
    } else {
      element.classList.add("whistle-map-blank");
    }
    return map;
  }

  window.WhistleGeo = {
    wgsToGcj: wgsToGcj,
    gcjToWgs: gcjToWgs,
    featureAt: featureAt,
    projection: projection,
    leafletMap: leafletMap,
  };
})();
