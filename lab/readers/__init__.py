"""Readers: a format registry (contract stub).

To be implemented (see the helper's brief). Public API::

    read(path: Path, dist: Distribution, dataset: Dataset, *, label: str | None = None)
        -> pl.DataFrame | gpd.GeoDataFrame
"""
