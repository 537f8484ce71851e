"""A whole county in files, the size issue 17 names: 20 towns, 400 villages, 3,000 grids,
5,000 officers and their memberships, scaled down at will for quick tests.

Grids tile a lattice of squares that share their borders (no overlap); every fiftieth is a
MultiPolygon in two pieces and every seventh square has a hole."""

import json
from dataclasses import dataclass

from tests.rollout.helpers import csv_bytes, ring

SIDE = 0.005


@dataclass(frozen=True)
class Size:
    towns: int = 20
    villages: int = 400
    grids: int = 3000
    users: int = 5000


def _grid_geometry(index: int, columns: int) -> dict:
    x = 110.0 + (index % columns) * SIDE * 2
    y = 25.0 + (index // columns) * SIDE
    outer = ring(x, y, x + SIDE, y + SIDE)
    rings = [outer]
    if index % 7 == 0:
        rings.append(ring(x + SIDE / 4, y + SIDE / 4, x + SIDE / 2, y + SIDE / 2))
    if index % 50 == 0:  # a second piece in the gap to the right of the square
        return {
            "type": "MultiPolygon",
            "coordinates": [rings, [ring(x + SIDE * 1.2, y, x + SIDE * 1.7, y + SIDE)]],
        }
    return {"type": "Polygon", "coordinates": rings}


def county_files(size: Size = Size()) -> dict[str, tuple[str, bytes]]:
    """kind -> (filename, content), in the order they load."""
    regions = [
        {"code": "C", "name_zh": "测试县", "name_en": "Test County", "level": "city", "parent": ""}
    ]
    towns = [f"T{t:02d}" for t in range(size.towns)]
    villages = [f"V{v:04d}" for v in range(size.villages)]
    regions += [
        {
            "code": code,
            "name_zh": f"{code}镇",
            "name_en": f"Town {code}",
            "level": "town",
            "parent": "C",
        }
        for code in towns
    ]
    regions += [
        {
            "code": code,
            "name_zh": f"{code}村",
            "name_en": f"Village {code}",
            "level": "village",
            "parent": towns[v % size.towns],
        }
        for v, code in enumerate(villages)
    ]
    columns = 60
    grids = [
        {
            "type": "Feature",
            "properties": {
                "code": f"G{g:05d}",
                "name_zh": f"{g}号网格",
                "name_en": f"Grid {g}",
                "village": villages[g % size.villages],
            },
            "geometry": _grid_geometry(g, columns),
        }
        for g in range(size.grids)
    ]
    departments = [["code", "name_zh", "name_en", "kind", "region"]] + [
        [f"D{t}", f"{t}市场所", f"Market office {t}", "market", t] for t in towns
    ]
    teams = [
        [
            "code",
            "name_zh",
            "name_en",
            "region",
            "kind",
            "parent",
            "areas",
            "aspects",
            "items",
            "departments",
        ]
    ]
    teams.append(["TM-C", "县执法大队", "County team", "C", "comprehensive", "", "C", "", "", ""])
    teams += [
        [f"TM-{t}", f"{t}中队", f"Brigade {t}", t, "comprehensive", "TM-C", t, "", "", f"D{t}"]
        for t in towns
    ]
    users = [
        [
            "username",
            "first_name",
            "last_name",
            "email",
            "phone",
            "dingtalk_userid",
            "wecom_userid",
            "is_active",
        ]
    ]
    users += [
        [f"u{u:05d}", "名", "姓", f"u{u:05d}@example.test", f"1380000{u:04d}", "", "", "true"]
        for u in range(size.users)
    ]
    memberships = [["username", "role", "place", "force", "stationed_in"]]
    for u in range(size.users):
        username = f"u{u:05d}"
        if u < size.grids:
            memberships.append([username, "grid_worker", f"G{u:05d}", "", ""])
        elif u < size.grids + size.villages:
            memberships.append([username, "village_officer", villages[u - size.grids], "", ""])
        elif u < size.grids + size.villages + size.towns:
            memberships.append([username, "town_committee", towns[u % size.towns], "", ""])
        else:
            town = u % size.towns
            village = villages[town]  # villages[t] lies in towns[t]
            memberships.append(
                [username, "team_member", f"TM-{towns[town]}", "law_enforcement", village]
            )
    collection = {"type": "FeatureCollection"}
    return {
        "regions": (
            "regions.geojson",
            json.dumps(
                {
                    **collection,
                    "features": [
                        {"type": "Feature", "properties": p, "geometry": None} for p in regions
                    ],
                }
            ).encode(),
        ),
        "grids": ("grids.geojson", json.dumps({**collection, "features": grids}).encode()),
        "departments": ("departments.csv", csv_bytes(departments)),
        "teams": ("teams.csv", csv_bytes(teams)),
        "users": ("users.csv", csv_bytes(users)),
        "memberships": ("memberships.csv", csv_bytes(memberships)),
    }
