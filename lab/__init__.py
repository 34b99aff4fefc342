"""The lab: analytics and reuse for the Đà Nẵng open data portal.

>>> import lab
>>> wards = lab.load("danang-wards-2025")          # a GeoDataFrame, CRS verified  # doctest: +SKIP
>>> air = lab.load("air-quality-iqair")            # a typed polars DataFrame       # doctest: +SKIP
"""

from __future__ import annotations

import logging

from lab.catalog import Catalog, Dataset, load_catalog, validate
from lab.errors import LabError
from lab.loader import load

__all__ = ["Catalog", "Dataset", "LabError", "__version__", "load", "load_catalog", "validate"]
__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
