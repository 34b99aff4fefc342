"""Dataset quality, "đúng – đủ – sạch – sống", scored the way the best portals score it.

* metadata: the data.europa.eu MQA (23 indicators, 405 points, four bands: :mod:`lab.quality.mqa`),
  udata's 9 criteria (:mod:`~lab.quality.udata`), the 5-star openness rating (:mod:`~lab.quality.stars`),
  over one normalised shape of the lab's catalog or the portal's listing (:mod:`~lab.quality.metadata`);
* links: archiver-style link checks with a history (:mod:`~lab.quality.links`);
* data: content checks, đúng (correct), đủ (complete), sạch (clean) (:mod:`~lab.quality.content`), and
  sống (live): freshness against the declared frequency (:mod:`~lab.quality.freshness`);
* the scorecard per dataset with the reasons for lost points, per agency, and quality × usage × reuse
  (:mod:`~lab.quality.scorecard`).

>>> from lab import quality
>>> scores = quality.score_catalog(lab.load_catalog(), offline=True)   # doctest: +SKIP
>>> scores.datasets.select("id", "mqa_points", "mqa_band", "reasons")  # doctest: +SKIP
"""

from __future__ import annotations

from lab.quality.content import ContentReport, check_catalog, check_dataset, check_frame
from lab.quality.links import check_links, last_results
from lab.quality.metadata import Metadata, from_catalog, from_listing
from lab.quality.scorecard import (
    Scores,
    agency_table,
    quality_usage,
    rank_correlations,
    score,
    score_catalog,
    score_listing,
)

__all__ = [
    "ContentReport",
    "Metadata",
    "Scores",
    "agency_table",
    "check_catalog",
    "check_dataset",
    "check_frame",
    "check_links",
    "from_catalog",
    "from_listing",
    "last_results",
    "quality_usage",
    "rank_correlations",
    "score",
    "score_catalog",
    "score_listing",
]
