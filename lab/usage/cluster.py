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

**KPIs.** Every KPI reads the per-part summaries (:mod:`lab.usage.summary`): partial aggregates made
once at ingest. On a cluster, tasks of several month partitions each reduce the months' summary
counts (:func:`month_partial`) and the client merges the months by concatenation; :class:`ClusterStore`
hands the merged partials to the same KPI functions (:mod:`lab.usage.kpis`), which add counts, take
distinct keys over the month key sets (read lazily from the shared store: exact within a month, unions
across months), rank the full merged counts for a top-N and compute growth after the merge. One
implementation of each KPI, identical figures to the last digit (the tests compare the JSON byte for
byte).

Paths go through :mod:`fsspec`-style strings: local folders and shared mounts are what the tests use;
an object store (``s3://`` through s3fs) is the next step (docs/guides/cluster.md).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from lab.errors import LabError
from lab.usage.store import EventStore
from lab.usage.summary import KEY_KINDS, SUMMARY_SCHEMA

log = logging.getLogger(__name__)

TASKS_PER_WORKER = 2
"""KPI reduction tasks per worker (each holding several month partitions, dealt round-robin)."""

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
def month_partial(files: Sequence[str]) -> pl.DataFrame:
    """A task: the summaries of one or several month partitions reduced to partial counts per month.

    Returns
    -------
    polars.DataFrame
        Every summary kind but the key lists, ``n`` summed per the other columns (month included).
    """
    group = [c for c in (*SUMMARY_SCHEMA, "year", "month") if c not in ("n", "key")]
    return (
        pl.scan_parquet(list(files), hive_partitioning=True)
        .filter(~pl.col("kind").is_in(list(KEY_KINDS)))
        .group_by(group)
        .agg(pl.col("n").sum())
        .sort(group, nulls_last=True)
        .collect()
    )


class ClusterStore(EventStore):
    """An :class:`EventStore` whose summary counts are reduced per month partition on a Dask cluster.

    The KPI functions of :mod:`lab.usage.kpis` take it like any store; only the reading of the summary
    counts differs (partials from the workers, merged here). The visitors' and accounts' keys, needed
    only for exact distinct counts over several parts or periods, are read lazily from the shared store
    by the client, as in one process: shipping every month's key set through the scheduler cost more
    than the whole suite in one process (bench/cluster.py).
    """

    def __init__(self, path: str | Path | None, client: Any) -> None:
        super().__init__(path)
        self.client = client
        self._partials: tuple[Any, pl.DataFrame] | None = None

    def _merged(self) -> pl.DataFrame | None:
        files = self.summary_files()
        if files is None:
            return None
        stamp = self._ledger_stamp()
        if self._partials is not None and self._partials[0] == stamp:
            return self._partials[1]
        by_month: dict[str, list[str]] = {}
        for f in files:
            by_month.setdefault(str(f.parent), []).append(str(f))
        # a task per month costs the scheduler about as much as the month's reduction: months are dealt
        # round-robin (the early months are small) into TASKS_PER_WORKER tasks a worker
        months = sorted(by_month)
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        k = min(len(months), TASKS_PER_WORKER * workers)
        futures = [
            self.client.submit(month_partial, [f for m in months[j::k] for f in by_month[m]], pure=False)
            for j in range(k)
        ]
        schema = pl.Schema({**SUMMARY_SCHEMA, "year": pl.Int64, "month": pl.Int64})
        counts = pl.concat(
            [
                pl.DataFrame(schema=schema),
                *[
                    r.with_columns(key=pl.lit(None, dtype=pl.UInt64)).select(list(schema))
                    for r in self.client.gather(futures)
                ],
            ],
            how="vertical_relaxed",
            rechunk=True,
        ).sort("year", "month", maintain_order=True)
        self._partials = (stamp, counts)
        log.info("summaries reduced on the cluster: %d month partitions in %d tasks", len(months), k)
        return counts

    def scan_summaries(self) -> pl.LazyFrame | None:
        """The month partials' counts (see :func:`month_partial`), merged; None without summaries."""
        merged = self._merged()
        return None if merged is None else merged.lazy()
