"""The usage store on a Dask cluster: parallel reading at ingest, partition-parallel KPIs.

The single-process path is the default and imports nothing of Dask; this module imports it only when a
cluster is asked for (``--workers N``, ``--scheduler ADDR`` or ``$LAB_DASK_SCHEDULER``), from the
optional extra ``lab[cluster]`` (``dask[distributed]``). Polars stays the compute kernel in every task.

**Ingest.** Each input file is read by one task on a worker
(:func:`lab.usage.ingest.read_on_worker`): the file's sha256, then the adapter's staged batches
spilled by month into a staging folder of the store (a filesystem every worker sees). The client
then counts the files one at a time, in input order, with the very function one process uses
(:func:`lab.usage.ingest.count_months`: content deduplication against the store, the counting rules,
the parts and their summaries) and commits each through the store's single-writer, atomic ledger.
The store is therefore the same, part for part, as a single-process ingest: a killed worker's task is
run again elsewhere (its staging folder is started afresh), and a killed client leaves the store as
it was (nothing is in the ledger until its commit).

**KPIs.** Every KPI reads the month rollups (:mod:`lab.usage.rollup`) of the per-part summaries
(:mod:`lab.usage.summary`, partial aggregates made once at ingest). On a cluster, each task computes
the rollup of a contiguous run of month partitions with the function one process uses over the whole
store, and the client concatenates them (:class:`ClusterStore`); the KPI functions
(:mod:`lab.usage.kpis`) then add counts over months, take distinct keys over the month key sets (read
lazily from the shared store: exact within a month, unions across months), rank the full merged counts
for a top-N and compute growth after the merge. One implementation of each KPI, identical figures to
the last digit (the tests compare the JSON byte for byte).

Paths go through :mod:`fsspec`-style strings: local folders and shared mounts are what the tests use;
an object store (``s3://`` through s3fs) is the next step (docs/guides/cluster.md).
"""

from __future__ import annotations

import bisect
import itertools
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from lab.errors import LabError
from lab.usage.store import EventStore

log = logging.getLogger(__name__)

TASKS_PER_WORKER = 2
"""Rollup tasks per worker (each a contiguous run of month partitions of about equal size)."""

SERIES_TASKS_PER_WORKER = 1
"""Tasks per worker of a call over the datasets' series (:meth:`ClusterStore.map_series`): its pieces
are of equal rows, and each task adds a round trip and the transfer of its piece and result."""

SCHEDULER_ENV = "LAB_DASK_SCHEDULER"
"""Environment variable naming the scheduler (``tcp://host:8786``) every usage command then uses."""


class ClusterError(LabError):
    """A cluster that cannot be reached or started, or the extra that is not installed."""


def wanted(workers: int | None = None, scheduler: str | None = None) -> bool:
    """True when a cluster is asked for: ``workers``, ``scheduler`` or ``$LAB_DASK_SCHEDULER``."""
    return workers is not None or bool(scheduler) or bool(os.environ.get(SCHEDULER_ENV, "").strip())


@contextmanager
def connect(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: to ``scheduler`` (or ``$LAB_DASK_SCHEDULER``), else to a local cluster of
    ``workers`` processes on 127.0.0.1 (one thread each; polars threads shared out among them).

    Raises
    ------
    ClusterError
        The extra is not installed, the scheduler does not answer, or ``workers`` is below 1.
    """
    address = scheduler or os.environ.get(SCHEDULER_ENV, "").strip() or None
    if address is None and (workers is None or workers < 1):
        raise ClusterError(f"--workers must be 1 or more, not {workers}")
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError(
            "a cluster needs Dask: install the lab's cluster extra (pip install 'lab[cluster]')"
        ) from None
    for name in ("distributed", "dask"):  # their start and stop chatter is not the user's business
        logging.getLogger(name).setLevel(logging.WARNING)
    if address is not None:
        try:
            client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"the Dask scheduler {address} does not answer ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    assert workers is not None
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            env={"POLARS_MAX_THREADS": threads},
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


# ------------------------------------------------------------------------------------------- KPIs
def deal(weights: Sequence[float], k: int) -> list[range]:
    """Cut items (months, in order) into ``min(k, len(weights))`` contiguous runs of about equal total
    weight: the m-th cut falls where the running total is nearest ``m/k`` of the whole.

    Examples
    --------
    >>> deal([1, 1, 1, 1, 4], 2)
    [range(0, 4), range(4, 5)]
    >>> deal([1, 2, 3, 4, 5, 6], 3)
    [range(0, 3), range(3, 5), range(5, 6)]
    """
    n = len(weights)
    k = min(k, n)
    prefix = list(itertools.accumulate(weights, initial=0.0))
    bounds = [0]
    for m in range(1, k):
        target = prefix[-1] * m / k
        j = bisect.bisect_left(prefix, target)
        if j > 0 and (j > n or target - prefix[j - 1] <= prefix[j] - target):
            j -= 1
        bounds.append(min(max(j, bounds[-1] + 1), n - (k - m)))
    bounds.append(n)
    return [range(a, b) for a, b in itertools.pairwise(bounds) if b > a]


class ClusterStore(EventStore):
    """An :class:`EventStore` whose month rollups (:mod:`lab.usage.rollup`) are computed on a Dask cluster.

    The KPI functions of :mod:`lab.usage.kpis` take it like any store; only the computing of the
    rollups differs: the months are cut into contiguous runs of about equal summary size, one task per
    run (:data:`TASKS_PER_WORKER` a worker) computes the run's rollup with the very function one
    process uses (:func:`lab.usage.rollup.rollup_files`), and the client concatenates
    (:func:`lab.usage.rollup.merge`). A year cut between two runs sends its distinct (application,
    dataset) pairs, counted after the merge. The visitors' and accounts' keys, needed only for exact
    distinct counts over several parts or periods, are read lazily from the shared store by the client,
    as in one process.
    """

    def __init__(self, path: str | Path | None, client: Any) -> None:
        super().__init__(path)
        self.client = client
        self.rollup_tasks = 0
        """How many rollup tasks this store submitted."""
        self.series_tasks = 0
        """How many series tasks (:meth:`map_series`) this store submitted."""
        self.series_per_worker = SERIES_TASKS_PER_WORKER
        """Tasks per worker of a call over the datasets' series."""

    def compute_rollups(self, by_month: dict[tuple[int, int], list[str]]) -> dict[str, pl.DataFrame]:
        """The rollup of the months' summary files, a task per run of months (see the class)."""
        from lab.usage.rollup import merge, rollup_files

        months = list(by_month)
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        sizes = [sum(os.path.getsize(f) for f in by_month[m]) for m in months]
        runs = deal(sizes, TASKS_PER_WORKER * workers)
        if not runs:
            return rollup_files([])
        held: dict[int, set[int]] = {}  # year → the runs holding some of its months
        for j, run in enumerate(runs):
            for i in run:
                held.setdefault(months[i][0], set()).add(j)
        futures = [
            self.client.submit(
                rollup_files,
                [f for i in run for f in by_month[months[i]]],
                sorted(y for y, js in held.items() if js == {j}),
                pure=False,
            )
            for j, run in enumerate(runs)
        ]
        self.rollup_tasks += len(futures)
        log.info("month rollups on the cluster: %d month partitions in %d tasks", len(months), len(runs))
        return merge(self.client.gather(futures))

    def map_series(
        self, fn: Callable[..., pl.DataFrame], frame: pl.DataFrame, key: str, *args: Any
    ) -> list[pl.DataFrame]:
        """``fn(piece, *args)`` on the workers, a task per piece of :func:`cut_series`
        (:attr:`series_per_worker` a worker)."""
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        pieces = cut_series(frame, key, self.series_per_worker * workers)
        if len(pieces) <= 1:
            return [fn(frame, *args)]
        data = self.client.scatter(pieces, hash=False)
        futures = [self.client.submit(fn, d, *args, pure=False) for d in data]
        self.series_tasks += len(futures)
        return list(self.client.gather(futures))


def cut_series(frame: pl.DataFrame, key: str, k: int) -> list[pl.DataFrame]:
    """``frame`` cut into at most ``k`` pieces of contiguous ranges of ``key`` values (sorted) with
    about equal rows: every series (one ``key`` value) whole in one piece, the pieces in key order."""
    sizes = frame.group_by(key).len().sort(key, nulls_last=True)
    runs = deal(sizes.get_column("len").to_list(), k)
    if len(runs) <= 1:
        return [frame]
    lookup = pl.DataFrame(
        {key: sizes.get_column(key), "__piece": [j for j, run in enumerate(runs) for _ in run]},
        schema_overrides={"__piece": pl.Int64},
    )
    pieces = frame.join(lookup, on=key, how="left", nulls_equal=True).partition_by(
        "__piece", maintain_order=True, include_key=False, as_dict=True
    )
    return [pieces[(j,)] for j in range(len(runs))]
