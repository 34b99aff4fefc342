"""One CRS policy (issue 17 part 4): every transformation of the lab goes through lab/crs.py, so the pinned
VN-2000 ↔ WGS 84 shift (EPSG:6960) applies to polygons and points, in the readers, the maps and the
writers alike."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from lab.crs import LOCAL_CRS, PINNED_OPERATION, WGS84, to_wgs84, transformation_record, transformer

#: Files allowed to build a transformation themselves, with the reason.
EXCEPTIONS = {
    # the demo generator's frozen, seeded output: its Voronoi cells' areas are computed in an equal-area
    # projection of lon/lat (no VN-2000 is involved) and changing them would change every demo file
    "lab/demo/places.py",
}


def test_no_module_transforms_coordinates_outside_the_policy(root: Path) -> None:
    offenders = []
    for path in sorted((root / "lab").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "lab/crs.py" or rel in EXCEPTIONS:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"\.to_crs\(|Transformer\.from_crs\(|Transformer\.from_pipeline\(", text):
            offenders.append(rel)
    assert offenders == [], f"transform through lab.crs, not by hand: {offenders}"


def _vn2000_points() -> gpd.GeoDataFrame:
    xs, ys = [548_000.0, 552_500.0], [1_776_000.0, 1_781_250.0]  # around Đà Nẵng's centre, EPSG:5899
    return gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=gpd.points_from_xy(xs, ys), crs=LOCAL_CRS)


def test_to_wgs84_uses_the_pinned_shift_for_points_and_polygons() -> None:
    points = _vn2000_points()
    tr = transformer(LOCAL_CRS, WGS84)
    assert transformation_record(LOCAL_CRS, WGS84)["operation"] == PINNED_OPERATION
    lon, lat = tr.transform(points.geometry.x.to_numpy(), points.geometry.y.to_numpy())
    moved = to_wgs84(points)
    assert moved.crs.equals(WGS84) and list(moved["name"]) == ["a", "b"]
    assert np.allclose(moved.geometry.x, lon, atol=1e-12) and np.allclose(moved.geometry.y, lat, atol=1e-12)
    polygon = gpd.GeoSeries([shapely.box(548_000, 1_776_000, 552_500, 1_781_250)], crs=LOCAL_CRS)
    corners = np.asarray(to_wgs84(polygon).iloc[0].exterior.coords)
    x, y = tr.transform(np.array([552_500.0]), np.array([1_776_000.0]))
    assert (
        np.isclose(corners[:, 0], x[0], atol=1e-12).any()
        and np.isclose(corners[:, 1], y[0], atol=1e-12).any()
    )
    already = to_wgs84(moved)
    assert already is moved  # nothing to do


def test_the_maps_points_take_the_same_shift_as_the_polygons() -> None:
    from lab.maps import Map

    points = _vn2000_points()
    html = Map(lang="en").points(points, name="sensors", label="name", cluster=False).to_html()
    lon, lat = transformer(LOCAL_CRS, WGS84).transform(
        points.geometry.x.to_numpy(), points.geometry.y.to_numpy()
    )
    for x, y in zip(lon, lat, strict=True):
        assert f"[{round(float(x), 6)}, {round(float(y), 6)}, " in html.replace(",", ", ").replace(
            ",  ", ", "
        )
