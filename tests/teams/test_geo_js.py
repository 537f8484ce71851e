"""The maps' point-in-grid hint (static/js/geo.js featureAt) on a MultiPolygon grid: each
piece hits, its hole and the gap between the pieces do not. Runs the script in Node."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

NODE = shutil.which("node")
SCRIPT = """
global.window = {};
eval(require("fs").readFileSync(process.argv[1], "utf8"));
const ring = (x0, y0, x1, y1) => [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];
const features = [
  {id: "square", geometry: {type: "Polygon", coordinates: [ring(0, 0, 1, 1)]}},
  {id: "pieces", geometry: {type: "MultiPolygon", coordinates: [
    [ring(10, 0, 12, 2), ring(10.5, 0.5, 11, 1)], [ring(20, 0, 21, 1)]]}},
];
const at = (lat, lng) => (window.WhistleGeo.featureAt(features, lat, lng) || {id: null}).id;
const points = [[0.5, 0.5], [0.2, 10.2], [0.5, 20.5], [0.7, 10.7], [0.5, 15]];
console.log(JSON.stringify(points.map(([lat, lng]) => at(lat, lng))));
"""


@pytest.mark.skipif(NODE is None, reason="needs Node.js")
def test_feature_at_finds_each_piece_of_a_multipolygon_and_not_its_hole():
    geo_js = Path(settings.BASE_DIR) / "static" / "js" / "geo.js"
    out = subprocess.run(
        [NODE, "-e", SCRIPT, str(geo_js)], capture_output=True, text=True, check=True, timeout=30
    )
    assert json.loads(out.stdout) == ["square", "pieces", "pieces", None, None]
