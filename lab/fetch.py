"""Fetching: local paths, the demo portal, an offline mirror, https with a cache, CKAN (contract stub).

To be implemented (see the helper's brief). Public API::

    fetch(dataset: Dataset, dist: Distribution, *, catalog_root: Path, mirror: Path | None = None,
          refresh: bool = False) -> Path
    cache_dir() -> Path;  demo_dir() -> Path;  mirror_dir() -> Path | None
"""
