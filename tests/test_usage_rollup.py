"""Month rollups (lab.usage.rollup): the rollup of a store cut into runs of months, merged, is the rollup
of the whole store, frame by frame, also when a year is cut between runs (its distinct datasets per
application come from pairs); the same rollup from the events as from the summaries; the runs a
cluster deals."""

from __future__ import annotations

from itertools import pairwise

import polars as pl
import pytest

from lab.atomic import atomic_write_text
from lab.usage.cluster import cut_series, deal
from lab.usage.kpis import _rollups, dataset_sums, kpi_suite
from lab.usage.rollup import merge, rollup_files
from lab.usage.store import ROLLUP_WINDOWS, EventStore
from lab.usage.synthetic import generate_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EventStore:
    """A small seeded synthetic store (invented events) of two years, one part per month."""
    path = tmp_path_factory.mktemp("rollup") / "store"
    generate_store(path, scale=0.02, first="2023-01", last="2024-12", progress=False)
    return EventStore(path)


def same(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name, frame in a.items():
        cols = frame.columns
        assert frame.sort(cols, nulls_last=True).equals(b[name].sort(cols, nulls_last=True)), name


def test_runs_of_months_merged_are_the_whole_rollup(store: EventStore) -> None:
    files = [str(f) for f in store.summary_files() or []]
    assert len(files) == 24
    whole = rollup_files(files)
    assert whole["datasets"].height > 1000 and whole["app_years"].height > 10
    assert whole["app_pairs"].is_empty()  # one process holds every year whole
    # three runs: 2023-01..07, 2023-08..2024-03, 2024-04..12; no year is whole in any run
    runs = [files[:7], files[7:15], files[15:]]
    pieces = [rollup_files(run, whole_years=[]) for run in runs]
    assert all(p["app_years"].is_empty() and p["app_pairs"].height > 0 for p in pieces)
    same(whole, merge(pieces))
    # two runs cut at the year: each year whole in its run, no pairs
    pieces = [rollup_files(files[:12], whole_years=[2023]), rollup_files(files[12:], whole_years=[2024])]
    assert all(p["app_pairs"].is_empty() for p in pieces)
    same(whole, merge(pieces))


def test_distinct_datasets_per_year_are_not_the_sum_of_months(store: EventStore) -> None:
    """A check that can fail: summing the months' distinct datasets would overcount."""
    whole = rollup_files([str(f) for f in store.summary_files() or []])
    by_months = whole["apps"].group_by("year", "app_id").agg(pl.col("datasets").sum())
    joined = whole["app_years"].join(by_months, on=["year", "app_id"], suffix="_months", nulls_equal=True)
    assert (joined["datasets"] <= joined["datasets_months"]).all()
    assert (joined["datasets"] < joined["datasets_months"]).any()


def test_the_events_give_the_summaries_rollup(store: EventStore) -> None:
    from_summaries = _rollups(store, "2023-03", "2024-10", None)
    from_events = _rollups(store, "2023-03", "2024-10", False)
    assert from_events["parts"].is_empty()  # visits and distinct counts: the totals read the events
    same(
        {k: v for k, v in from_summaries.items() if k != "parts"},
        {k: v for k, v in from_events.items() if k != "parts"},
    )
    assert from_summaries["counts"].height == 20  # the window's months only


def test_the_store_keeps_its_rollups_until_the_ledger_changes(store: EventStore) -> None:
    first = store.rollups()
    assert store.rollups() is first
    assert store.rollups(202301, 202412) is first  # the same months, however the window is written
    assert store.rollups(202302, None) is not first
    for lo in (202303, 202304, 202305, 202306, 202307):  # a few windows kept, the last ones
        store.rollups(lo, None)
    assert len(store._rollup_cache) == ROLLUP_WINDOWS
    last = store.rollups(202307, None)
    assert store.rollups(202307, None) is last
    # a commit writes a new ledger: what was kept is computed again
    ledger = store.path / "_ledger.json"
    atomic_write_text(ledger, ledger.read_text(encoding="utf-8"))
    again = store.rollups(202307, None)
    assert again is not last
    same(again, last)


@pytest.mark.parametrize(
    ("weights", "k", "expected"),
    [
        ([1, 1, 1, 1], 2, [range(0, 2), range(2, 4)]),
        ([1, 1, 1, 1, 4], 2, [range(0, 4), range(4, 5)]),
        ([1, 2, 3, 4, 5, 6], 3, [range(0, 3), range(3, 5), range(5, 6)]),
        ([5], 4, [range(0, 1)]),
        ([], 3, []),
        ([1, 2, 3, 4, 5, 6], 10, [range(i, i + 1) for i in range(6)]),
    ],
)
def test_deal_cuts_contiguous_runs_of_equal_weight(weights: list[int], k: int, expected: list[range]) -> None:
    runs = deal(weights, k)
    assert runs == expected
    assert [i for r in runs for i in r] == list(range(len(weights)))


def test_series_cut_by_datasets_give_the_whole_answer(store: EventStore) -> None:
    """The pieces a cluster's tasks get: every dataset whole in one piece, contiguous ranges in order;
    a KPI per piece, put together, is the KPI over the whole frame."""
    datasets = store.rollups()["datasets"]  # type: ignore[index]
    pieces = cut_series(datasets, "dataset_id", 5)
    assert len(pieces) == 5 and sum(p.height for p in pieces) == datasets.height
    ranges = [(p["dataset_id"].min(), p["dataset_id"].max()) for p in pieces]
    assert all(hi < lo for (_, hi), (lo, _) in pairwise(ranges))
    whole = dataset_sums(datasets, "downloads", "2023-04", "2024-09", 5)
    cut = pl.concat([dataset_sums(p, "downloads", "2023-04", "2024-09", 5) for p in pieces])
    assert whole.height > 100 and whole.sort("dataset_id").equals(cut.sort("dataset_id"))
    assert cut_series(datasets.head(0), "dataset_id", 5)[0].is_empty()


def test_a_store_whose_series_are_cut_publishes_the_same_kpis(store: EventStore) -> None:
    """What ClusterStore.map_series does, without a cluster: the suite is the same frame for frame."""

    class Cut(EventStore):
        def map_series(self, fn, frame, key, *args):  # type: ignore[no-untyped-def]
            return [fn(piece, *args) for piece in cut_series(frame, key, 7)]

    for kw in ({"n": 5}, {"min_count": 0}, {"start": "2023-05", "end": "2024-08"}):
        one = kpi_suite(store, **kw)  # type: ignore[arg-type]
        cut = kpi_suite(Cut(store.path), **kw)  # type: ignore[arg-type]
        assert one.keys() == cut.keys()
        for name in one:
            assert one[name].equals(cut[name]), (kw, name)
        assert one["facts"].height > 1000
        assert one["facts"]["value_suppressed"].any() == (kw.get("min_count") != 0)
