// The investigation's place on a map (no inline script: the Content-Security-Policy refuses
// it). A tap sets the latitude and longitude fields (WGS-84, as stored) and picks the grid the
// point lies in; typing in the fields moves the pin. Without JavaScript, or without the map,
// the typed fields are the way in. Uses geo.js (the filing map's coordinates and Leaflet setup).
(function () {
  "use strict";

  var element = document.querySelector("[data-place-map]");
  var geo = window.WhistleGeo;
  if (!element || !geo || !window.L) {
    return;
  }
  var L = window.L;
  var form = element.closest("form");
  var latInput = form.querySelector('input[name="latitude"]');
  var lngInput = form.querySelector('input[name="longitude"]');
  var gridSelect = form.querySelector('select[name="grid"]');
  var status = document.getElementById("place-map-status");
  var source = document.getElementById(element.getAttribute("data-grids"));
  var collection = source ? JSON.parse(source.textContent) : { features: [] };
  var features = collection.features || [];
  var shown = geo.projection(element.getAttribute("data-tile-crs"));
  element.hidden = false;
  var map = geo.leafletMap(element, {
    iconPath: element.getAttribute("data-icon-path"),
    tileUrl: element.getAttribute("data-tile-url"),
    tileAttribution: element.getAttribute("data-tile-attribution"),
  });
  var marker = null;

  function describe(lat, lng, feature) {
    var text = lat.toFixed(6) + ", " + lng.toFixed(6);
    if (feature) {
      text += " · " + element.getAttribute("data-msg-in-grid") + " " + feature.properties.label;
    } else if (features.length) {
      text += " · " + element.getAttribute("data-msg-outside");
    }
    status.textContent = text;
  }

  function pin(lat, lng, center) {
    var point = shown.toDisplay(lat, lng);
    if (marker) {
      marker.setLatLng(point);
    } else {
      marker = L.marker(point, { keyboard: false, interactive: false }).addTo(map);
    }
    if (center) {
      map.setView(point, Math.max(map.getZoom(), 15));
    }
    return geo.featureAt(features, lat, lng);
  }

  function place(lat, lng) {
    latInput.value = lat.toFixed(7);
    lngInput.value = lng.toFixed(7);
    var feature = pin(lat, lng, false);
    if (feature && gridSelect) {
      gridSelect.value = String(feature.properties.id);
    }
    describe(lat, lng, feature);
  }

  function fromTyped() {
    var lat = parseFloat(latInput.value);
    var lng = parseFloat(lngInput.value);
    if (isFinite(lat) && isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180) {
      describe(lat, lng, pin(lat, lng, true));
    }
  }

  function tapped(event) {
    var point = shown.fromDisplay(event.latlng.lat, event.latlng.lng);
    place(point[0], point[1]);
  }

  var layer = L.geoJSON(collection, {
    coordsToLatLng: function (coords) {
      var point = shown.toDisplay(coords[1], coords[0]);
      return L.latLng(point[0], point[1]);
    },
    style: function () {
      return { color: "#1d4ed8", weight: 1.5, fillOpacity: 0.06 };
    },
    onEachFeature: function (feature, shape) {
      shape.bindTooltip(feature.properties.label);
      shape.on("click", tapped); // the polygon takes the click
    },
  }).addTo(map);
  map.on("click", tapped);
  latInput.addEventListener("change", fromTyped);
  lngInput.addEventListener("change", fromTyped);
  if (latInput.value && lngInput.value) {
    fromTyped();
  } else if (features.length) {
    map.fitBounds(layer.getBounds());
  }
})();
