// The assessment dashboards: ECharts for the trend and level charts, Leaflet for the hot spot
// map, and the report's print button. Data comes from json_script elements; nothing inline.
// Runs on the first load and again on every htmx swap of the page body. Without this file
// every figure is still in the tables.
(function () {
  "use strict";

  var PALETTE = ["#1d4ed8", "#15803d", "#b91c1c", "#a16207", "#7c3aed", "#0e7490", "#be185d"];

  function readJson(id) {
    var element = document.getElementById(id);
    if (!element) {
      return null;
    }
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return null;
    }
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : value + "%";
  }

  function lineOption(data) {
    return {
      color: PALETTE,
      tooltip: { trigger: "axis", valueFormatter: percent },
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 40, bottom: 30, containLabel: true },
      xAxis: { type: "category", data: data.labels, boundaryGap: false },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: data.series.map(function (series) {
        return {
          name: series.name,
          type: "line",
          data: series.data,
          connectNulls: false,
          symbolSize: 6
        };
      })
    };
  }

  function levelOption(data) {
    return {
      color: ["#1d4ed8", "#94a3b8"],
      tooltip: { trigger: "axis", valueFormatter: percent },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 40, bottom: 30, containLabel: true },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        {
          name: data.names.actual,
          type: "bar",
          data: data.actual,
          label: { show: true, position: "top", formatter: function (p) { return percent(p.value); } }
        },
        {
          name: data.names.target,
          type: "bar",
          data: data.target,
          label: { show: true, position: "top", formatter: function (p) { return percent(p.value); } }
        }
      ]
    };
  }

  var charts = [];

  function initCharts(root) {
    if (!window.echarts) {
      return;
    }
    var nodes = root.querySelectorAll ? root.querySelectorAll("[data-chart]") : [];
    Array.prototype.forEach.call(nodes, function (node) {
      if (node.getAttribute("data-ready")) {
        return;
      }
      var data = readJson(node.getAttribute("data-source"));
      if (!data) {
        return;
      }
      node.setAttribute("data-ready", "1");
      var chart = window.echarts.init(node, null, { renderer: "svg" });
      chart.setOption(node.getAttribute("data-chart") === "levels" ? levelOption(data) : lineOption(data));
      charts.push(chart);
    });
  }

  function initMap(root) {
    var node = root.querySelector ? root.querySelector("[data-map='hotspots']") : null;
    if (!node || !window.L || !window.WhistleGeo || node.getAttribute("data-ready")) {
      return;
    }
    var collection = readJson(node.getAttribute("data-source"));
    if (!collection) {
      return;
    }
    node.setAttribute("data-ready", "1");
    var L = window.L;
    var map = L.map(node, { zoomControl: true, attributionControl: true });
    // Credit Leaflet in plain text, without the flag icon of its default prefix.
    map.attributionControl.setPrefix('<a href="https://leafletjs.com" rel="noopener">Leaflet</a>');
    var status = document.getElementById("hotspot-map-status");
    var tileUrl = node.getAttribute("data-tile-url");
    if (tileUrl) {
      var tiles = L.tileLayer(tileUrl, {
        attribution: node.getAttribute("data-tile-attribution") || "",
        maxZoom: 19
      });
      var warned = false;
      tiles.on("tileerror", function () {
        if (!warned && status) {
          warned = true;
          status.textContent = node.getAttribute("data-msg-tiles-failed") || "";
        }
      });
      tiles.addTo(map);
    }
    var word = node.getAttribute("data-msg-cases") || "";
    // One coordinate rule for every map (static/js/geo.js): the grids are stored in WGS-84
    // and drawn shifted to GCJ-02 when the tiles are (WHISTLE_TILE_CRS=gcj02).
    var shown = window.WhistleGeo.projection(node.getAttribute("data-tile-crs"));
    var layer = L.geoJSON(collection, {
      coordsToLatLng: function (coords) {
        var point = shown.toDisplay(coords[1], coords[0]);
        return L.latLng(point[0], point[1]);
      },
      style: function (feature) {
        return { className: "heat-" + (feature.properties.level || 0), weight: 1 };
      },
      onEachFeature: function (feature, shape) {
        var p = feature.properties;
        var text = p.code + " " + p.name + ": " + p.total + " " + word;
        if (p.top && p.top.length) {
          text += " — " + p.top.join(", ");
        }
        shape.bindTooltip(text, { sticky: true });
      }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [12, 12] });
    } else {
      map.setView([30.5, 120.7], 11);
    }
  }

  function init(root) {
    initCharts(root || document);
    initMap(root || document);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) {
      window.print();
    }
  });

  window.addEventListener("resize", function () {
    charts = charts.filter(function (chart) {
      if (chart.isDisposed() || !document.body.contains(chart.getDom())) {
        if (!chart.isDisposed()) {
          chart.dispose();
        }
        return false;
      }
      chart.resize();
      return true;
    });
  });

  if (window.htmx && window.htmx.onLoad) {
    window.htmx.onLoad(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      init(document);
    });
  } else {
    init(document);
  }
})();
