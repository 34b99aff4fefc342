"""The lab: analytics and reuse for the Đà Nẵng open data portal.

>>> import lab
>>> wards = lab.load("danang-wards-2025")          # a GeoDataFrame, CRS verified  # doctest: +SKIP
>>> air = lab.load("air-quality-iqair")            # a typed polars DataFrame       # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from typing import TYPE_CHECKING, Any

from lab.errors import LabError

if TYPE_CHECKING:
    from lab.catalog import Catalog, Dataset, load_catalog, validate
    from lab.loader import load

__all__ = ["Catalog", "Dataset", "LabError", "__version__", "load", "load_catalog", "validate"]
__version__ = "0.1.0"

# imported on first use: a public app's kernel must not pay for the loaders (numpy, geo) it never calls
_LAZY = {
    "Catalog": "lab.catalog",
    "Dataset": "lab.catalog",
    "load_catalog": "lab.catalog",
    "validate": "lab.catalog",
    "load": "lab.loader",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")  # a submodule, e.g. ``lab.fetch``
    raise AttributeError(f"module 'lab' has no attribute {name!r}")


logging.getLogger(__name__).addHandler(logging.NullHandler())
