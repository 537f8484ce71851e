"""The features of a GeoJSON file: their properties read with their checks, and their
geometry made a shapely shape. Every refusal names the feature's position (from 1) and name."""

from dataclasses import dataclass
from typing import Any

import shapely.geometry
import shapely.validation
from django.utils.translation import gettext as _

from rollout.report import RowError
from teams.geo import polygon_errors


@dataclass
class Feature:
    index: int  # from 1, as "feature 3" reads
    name: str
    properties: dict[str, Any]
    geometry: Any


class FeatureProblems:
    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def add(self, feature: Feature, column: str, message: str) -> None:
        self.errors.append(
            RowError(
                line=None, column=column, message=message, feature=feature.index, name=feature.name
            )
        )

    def text(self, feature: Feature, name: str, *, max_length: int, required: bool = False) -> str:
        value = feature.properties.get(name)
        if value is None:
            value = ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(int(value)) if float(value).is_integer() else str(value)
        if not isinstance(value, str):
            self.add(feature, name, _("Write this property as text."))
            return ""
        value = value.strip()
        if required and not value:
            self.add(feature, name, _("This property is required."))
        elif len(value) > max_length:
            self.add(feature, name, _("Longer than %(limit)d characters.") % {"limit": max_length})
        return value

    def shape(self, feature: Feature, *, required: bool) -> Any:
        """The geometry as a valid shapely (Multi)Polygon, or None (refused, or absent)."""
        geometry = feature.geometry
        if geometry is None:
            if required:
                self.add(feature, "geometry", _("The feature has no geometry."))
            return None
        problem = polygon_errors(geometry)
        if problem:
            self.add(feature, "geometry", problem)
            return None
        shape = shapely.geometry.shape(geometry)
        if not shape.is_valid:  # polygon_errors checked it: never reached, kept for safety
            self.add(feature, "geometry", shapely.validation.explain_validity(shape))
            return None
        return shape


def features_of(raw: list, problems: FeatureProblems) -> list[Feature]:
    found = []
    for index, item in enumerate(raw, start=1):
        properties = item.get("properties") if isinstance(item, dict) else None
        feature = Feature(index=index, name="", properties={}, geometry=None)
        if not isinstance(item, dict) or item.get("type") != "Feature":
            problems.add(feature, "", _("Not a GeoJSON Feature."))
            continue
        if not isinstance(properties, dict):
            problems.add(feature, "properties", _("The feature has no properties."))
            continue
        name = properties.get("name_zh") or properties.get("name_en") or properties.get("code")
        feature.name = str(name or "")
        feature.properties = properties
        feature.geometry = item.get("geometry")
        found.append(feature)
    return found


def geometry_of(geometry: dict) -> dict:
    """What is stored: the type and coordinates, nothing else the file carried (bbox, crs)."""
    return {"type": geometry["type"], "coordinates": geometry["coordinates"]}
