"""Disclosure control: every published usage figure is a sum of whole *safe periods*, so no sum or
difference of published figures can reveal a count below ``min_count``.

Hiding each small cell on its own (:func:`lab.usage.privacy.suppress`) is not enough once totals over
several months are published too: SMS requests over windows ending one month apart (12, 15, 18, 21)
give away months of 3 shown as "< 5", and a quarter's total minus its shown months gives away the
hidden one. The lab therefore publishes by one rule, the **safe-period rule**:

1. **Safe periods.** Each published series (one count per month: a portal total, a channel's
   requests, one application's API calls, one dataset's views…) is cut into periods, oldest month
   first: a month counting 0 or at least ``min_count`` is a period by itself; a smaller month opens a
   period that takes the following months until its count reaches ``min_count``. A last run still
   below ``min_count`` is *pending*: published nowhere until later months complete it. Periods are
   formed over the whole series, oldest first, so appending a month never changes an earlier period
   (a later release cannot be subtracted from an earlier one either).
2. **Only whole periods are published.** A month is shown when it is a period by itself; a month
   inside a longer period (or pending) is shown as hidden. A total over a window, a quarter, a year,
   a year to date is the sum of the periods lying *wholly* inside it, and the months it leaves out are
   stated.
3. **Composites from published parts.** A figure over several series (all channels, an agency's
   datasets, a channel's share) is computed from the series' published figures, never from the raw
   months, so it is itself a sum of whole periods; a share is a ratio of such sums.

So within a family of figures (the portal totals; requests by channel; a dataset's views, downloads,
calls and channel requests and every selection of datasets; API calls by application) every published
number is a sum of whole cells of one partition (series × safe period) in which each cell counts 0 or at
least ``min_count``: the difference of two published numbers is again such a sum, 0 or at least
``min_count``, whatever windows, quarters, years and shares are combined. Where a table lists parts under
a whole of another family (applications under the year's API calls), the **residual rule** hides the
smallest parts shown until the whole minus the parts is 0 or at least ``min_count``
(:func:`residual_rule`). Lists of the top datasets leave most datasets out, so what they leave of a total
is a sum over many datasets; that is the one combination the rule does not prove safe on its own.

Distinct counts (unique visitors, active accounts) are not sums over months: the difference of a
quarter's and a month's count is the number of accounts active in the quarter but not that month. They
are published per safe period of months only (periods formed on the distinct count of the merged
months), never over nested windows (no quarter, year or day figure of a distinct count).

Days (``lab usage kpis --by day``) are cut into periods inside each complete month period (a last run
of days below ``min_count`` joins the period before it, within the same month period), so every month
figure is a sum of whole day periods.

``min_count`` 0 or 1 publishes every cell as it is (for the lab's own analyses, never in public).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

PERIOD = "_period"
PENDING = "_pending"


def _cut(
    values: list[int],
    groups: list[Any],
    min_count: int,
    merge_tail: list[bool] | None = None,
    count: Callable[[int, int], int] | None = None,
) -> tuple[list[int], list[bool]]:
    """Period number and pending flag of each cell of ``values`` (ordered by group, then time).

    One pass over the aggregated cells (months or days of a few series, never event rows): the
    recurrence "accumulate until the count reaches ``min_count``" has no vectorised form. Plain lists:
    a public app's kernel computes safe periods without importing numpy.
    ``count(first, last)`` gives the count of the cells ``first..last`` (default: their sum; distinct
    counts pass the number of distinct keys). Where ``merge_tail`` is true for a group, its last run
    below ``min_count`` joins the period before it instead of staying pending.
    """
    n = len(values)
    period = [0] * n
    pending = [False] * n
    pid, first, acc = -1, 0, 0
    is_open = False
    for i in range(n):
        if i == 0 or groups[i] != groups[i - 1]:
            if i > 0 and is_open:
                _close_tail(period, pending, first, i, merge_tail is not None and merge_tail[i - 1])
            pid, is_open = -1, False
        if not is_open:
            pid, first, acc, is_open = pid + 1, i, 0, True
        acc = acc + int(values[i]) if count is None else count(first, i)
        period[i] = pid
        if acc == 0 or acc >= min_count:
            is_open = False
    if n and is_open:
        _close_tail(period, pending, first, n, merge_tail is not None and merge_tail[n - 1])
    return period, pending


def _close_tail(period: list[int], pending: list[bool], first: int, stop: int, merge: bool) -> None:
    """The group's last run ``first..stop-1`` is below the threshold: merge it back, or mark it pending."""
    if merge and period[first] > 0:
        period[first:stop] = [period[first] - 1] * (stop - first)
    elif not merge:
        pending[first:stop] = [True] * (stop - first)


def safe_periods(
    frame: pl.DataFrame,
    value: str,
    *,
    order: str,
    by: Sequence[str] = (),
    min_count: int,
    merge_tail: str | None = None,
    count: Callable[[pl.DataFrame], Callable[[int, int], int]] | None = None,
) -> pl.DataFrame:
    """Cut each series of ``frame`` into safe periods (see the module docstring).

    Parameters
    ----------
    frame
        One row per series and month (or day); ``value`` the count (null: the inputs cannot tell,
        counted as 0).
    value, order, by
        The count column, the time column (sortable text or date), the columns naming a series.
    min_count
        The smallest count published; 0 or 1 make every cell a period by itself.
    merge_tail
        A boolean column: true where the series' last run below ``min_count`` joins the period before
        it (days inside a complete month period).
    count
        For distinct counts: given the sorted frame, a function ``(first, last) -> count`` of the rows
        ``first..last`` (default: the sum of ``value``).

    Returns
    -------
    polars.DataFrame
        ``frame`` sorted by ``by`` and ``order`` with ``_period`` (the period's number within its
        series), ``_pending``, ``_period_value`` (the period's count), ``_period_months`` (cells in
        it) and ``_period_first`` / ``_period_last`` (its first and last ``order`` value).

    Examples
    --------
    >>> f = pl.DataFrame({"m": ["01", "02", "03", "04", "05"], "n": [12, 3, 0, 4, 1]})
    >>> safe_periods(f, "n", order="m", min_count=5)["_period_value"].to_list()
    [12, 7, 7, 7, 1]
    """
    keys = [*by, order]
    ordered = frame.sort(keys)
    if ordered.is_empty():
        return ordered.with_columns(
            pl.lit(0, pl.Int64).alias(PERIOD),
            pl.lit(False).alias(PENDING),
            pl.lit(0, pl.Int64).alias("_period_value"),
            pl.lit(0, pl.UInt32).alias("_period_months"),
            pl.col(order).alias("_period_first"),
            pl.col(order).alias("_period_last"),
        )
    group = ordered.select(pl.struct(by).rank("dense")).to_series().to_list() if by else [0] * ordered.height
    values = ordered.get_column(value).fill_null(0).to_list()
    tail = ordered.get_column(merge_tail).to_list() if merge_tail else None
    if min_count <= 1:
        period, pending = list(range(ordered.height)), [False] * ordered.height
    else:
        period, pending = _cut(values, group, min_count, tail, count(ordered) if count else None)
    out = ordered.with_columns(
        pl.Series(PERIOD, period, dtype=pl.Int64), pl.Series(PENDING, pending, dtype=pl.Boolean)
    )
    over = [*by, PERIOD]
    return out.with_columns(
        pl.col(value).fill_null(0).sum().over(over).cast(pl.Int64).alias("_period_value"),
        pl.len().over(over).alias("_period_months"),
        pl.col(order).min().over(over).alias("_period_first"),
        pl.col(order).max().over(over).alias("_period_last"),
    )


def distinct_count(keys: pl.DataFrame, order: str, values: str) -> Callable[[pl.DataFrame], Callable]:
    """The ``count`` of :func:`safe_periods` for a distinct count: the number of distinct ``key`` of
    ``keys`` (``order``, ``key``) over the months of a run. A run holding a month at or above the
    threshold is at least that month's count, so keys are only read for runs of small months."""

    def make(ordered: pl.DataFrame) -> Callable[[int, int], int]:
        months = ordered.get_column(order).to_list()
        monthly = ordered.get_column(values).fill_null(0).to_list()

        def count(first: int, last: int) -> int:
            if first == last:
                return int(monthly[first])
            run = months[first : last + 1]
            return keys.filter(pl.col(order).is_in(run)).get_column("key").n_unique()

        return count

    return make


def protect(
    frame: pl.DataFrame,
    columns: Sequence[str],
    min_count: int,
    *,
    order: str = "period",
    by: Sequence[str] = (),
    merge_tail: str | None = None,
    counts: dict[str, Callable[[pl.DataFrame], Callable]] | None = None,
) -> pl.DataFrame:
    """Publish each of ``columns`` by the safe-period rule: a cell keeps its value when it is a
    complete period by itself (or 0: it adds nothing to any sum), else it becomes null with
    ``<column>_suppressed`` true (a null the inputs cannot tell stays null, not flagged). Row order
    and columns are kept.

    Examples
    --------
    >>> f = pl.DataFrame({"period": ["a", "b", "c", "d"], "n": [12, 3, 4, 7]})
    >>> protect(f, ["n"], 5).rows()
    [('a', 12, False), ('b', None, True), ('c', None, True), ('d', 7, False)]
    """
    out = frame.with_row_index("__row")
    for c in columns:
        cut = safe_periods(
            out.select("__row", order, *by, c, *([merge_tail] if merge_tail else [])),
            c,
            order=order,
            by=by,
            min_count=min_count,
            merge_tail=merge_tail,
            count=(counts or {}).get(c),
        )
        alone = (pl.col("_period_months") == 1) & ~pl.col(PENDING) | (pl.col(c) == 0)  # 0 tells nothing
        flags = cut.select(
            "__row",
            pl.when(alone | pl.col(c).is_null()).then(pl.col(c)).otherwise(None).alias(f"_{c}"),
            (~alone & pl.col(c).is_not_null()).alias(f"_{c}_suppressed"),
        )
        out = (
            out.join(flags, on="__row", how="left")
            .with_columns(pl.col(f"_{c}").alias(c), pl.col(f"_{c}_suppressed").alias(f"{c}_suppressed"))
            .drop(f"_{c}", f"_{c}_suppressed")
        )
    return out.sort("__row").drop("__row")


def publish_days(
    daily: pl.DataFrame, monthly: pl.DataFrame, min_count: int, distinct: Sequence[str] = ()
) -> pl.DataFrame:
    """Daily totals published by the safe-period rule, nested in the months' periods.

    Parameters
    ----------
    daily, monthly
        ``period`` (``YYYY-MM-DD`` / ``YYYY-MM``) and the same count columns, unprotected, every month
        from the first one of the data.
    distinct
        Columns that are distinct counts: not published per day (a day's count is nested in its
        month's), null with the flag.

    Returns
    -------
    polars.DataFrame
        ``daily`` with values hidden and ``<column>_suppressed`` flags: days are cut into periods
        inside each complete month period (the last short run joins the period before it), so every
        published month is a sum of whole published day periods; days of a pending month period are
        hidden.
    """
    columns = [c for c in daily.columns if c != "period"]
    out = daily.with_columns(pl.col("period").str.slice(0, 7).alias("_month"))
    for c in columns:
        if c in distinct:
            out = out.with_columns(
                pl.lit(None, daily.schema[c]).alias(c), pl.col(c).is_not_null().alias(f"{c}_suppressed")
            )
            continue
        months = safe_periods(monthly.select("period", c), c, order="period", min_count=min_count).select(
            pl.col("period").alias("_month"), pl.col(PERIOD).alias("_mp"), (~pl.col(PENDING)).alias("_whole")
        )
        days = out.select("period", "_month", c).join(months, on="_month", how="left")
        shown = protect(days, [c], min_count, by=["_mp"], merge_tail="_whole").select(
            "period", c, f"{c}_suppressed"
        )
        out = out.drop(c).join(shown, on="period", how="left")
    return out.select("period", *columns, *(f"{c}_suppressed" for c in columns)).sort("period")


def window_sums(
    frame: pl.DataFrame,
    value: str,
    start: str | None,
    end: str | None,
    min_count: int,
    *,
    order: str = "period",
    by: Sequence[str] = (),
    bucket: Callable[[pl.Expr], pl.Expr] | None = None,
) -> pl.DataFrame:
    """Each series' published total over the window ``start..end`` (None: open), or over each bucket
    of it (``bucket`` maps the time column to a label: the year, the quarter): the sum of the series'
    safe periods lying wholly inside the window (and the bucket). Periods are formed over the whole
    ``frame``, so give it every month from the first one of the data: the figures are then the same
    whatever window is asked.

    Returns
    -------
    polars.DataFrame
        One row per series (``by``) and bucket (column ``bucket``): ``value`` (the sum; null when the
        inputs cannot tell any month), ``<value>_suppressed`` (a month with a count is left out),
        ``months_left_out`` (months not counted: their period is not wholly inside, or pending).

    Examples
    --------
    >>> f = pl.DataFrame({"period": ["01", "02", "03", "04"], "n": [12, 3, 4, 7]})
    >>> window_sums(f, "n", "02", "04", 5).select("n", "months_left_out").rows()
    [(14, 0)]
    >>> window_sums(f, "n", "03", "04", 5).select("n", "months_left_out").rows()
    [(7, 1)]
    """
    cut = (
        frame
        if PERIOD in frame.columns
        else safe_periods(frame, value, order=order, by=by, min_count=min_count)
    )
    lo, hi = pl.lit(start if start is not None else ""), pl.lit(end if end is not None else "\uffff")
    if frame.schema[order] != pl.String:
        lo = pl.lit(start) if start is not None else pl.col(order).min()
        hi = pl.lit(end) if end is not None else pl.col(order).max()
    label = bucket or (lambda e: pl.lit("all"))
    whole = (
        (pl.col("_period_first") >= lo)
        & (pl.col("_period_last") <= hi)
        & (label(pl.col("_period_first")) == label(pl.col(order)))
        & (label(pl.col("_period_last")) == label(pl.col(order)))
        & ~pl.col(PENDING)
    )
    inside = cut.filter(pl.col(order).is_between(lo, hi)).with_columns(
        label(pl.col(order)).alias("bucket"), whole.alias("_whole")
    )
    return (
        inside.group_by([*by, "bucket"], maintain_order=True)
        .agg(
            pl.when(pl.col(value).is_not_null().any())
            .then(pl.col(value).filter("_whole").fill_null(0).sum())
            .otherwise(None)
            .cast(pl.Int64)
            .alias(value),
            (~pl.col("_whole") & pl.col(value).is_not_null() & (pl.col(value) != 0))
            .any()
            .alias(f"{value}_suppressed"),
            (~pl.col("_whole")).sum().cast(pl.Int64).alias("months_left_out"),
        )
        .sort([*by, "bucket"])
    )


def residual_rule(
    parts: pl.DataFrame, value: str, whole: int | None, min_count: int, *, key: str
) -> pl.DataFrame:
    """Complementary suppression for parts listed under a published whole (applications under the
    year's API calls): while the whole minus the shown parts is between 1 and ``min_count`` − 1, the
    smallest shown part is hidden too, so what the subtraction gives is 0 or at least ``min_count``.
    ``parts`` has ``key``, ``value`` and ``<value>_suppressed``; the hidden parts get null and the flag."""
    if whole is None or min_count <= 1:
        return parts
    shown = parts.filter(pl.col(value).is_not_null()).sort([value, key])
    hidden: list[str] = []
    rest = whole - int(shown.get_column(value).sum())
    for k, v in shown.select(key, value).iter_rows():  # the few parts of one table
        if rest == 0 or rest >= min_count:
            break
        hidden.append(k)
        rest += int(v)
    if not hidden:
        return parts
    gone = pl.col(key).is_in(hidden)
    return parts.with_columns(
        pl.when(gone).then(None).otherwise(pl.col(value)).alias(value),
        (pl.col(f"{value}_suppressed") | gone).alias(f"{value}_suppressed"),
    )


def app_labels(app_ids: Sequence[str | None], registry: pl.DataFrame | None, lang: str = "vi") -> list[str]:
    """What a public table shows for each API consumer key: the title of the registered product whose
    ``api_consumer`` it is, else a pseudonym (``Ứng dụng chưa đăng ký 3f9a1c`` / ``Unregistered
    application 3f9a1c``: 24 bits of the keyed hash of :mod:`lab.usage.privacy`, the same in every
    report, unknowable without the lab's secret). A raw consumer key is never shown.

    Parameters
    ----------
    app_ids
        Consumer keys (None: calls without a key).
    registry
        The reuse registry (``api_consumer``, ``title``), or None.
    """
    from lab.usage.privacy import SecretError, keyed_hash, load_secret

    keys = pl.Series("app_id", list(app_ids), dtype=pl.String)
    names: dict[str, str] = {}
    if registry is not None and {"api_consumer", "title"} <= set(registry.columns):
        named = registry.select("api_consumer", "title").drop_nulls().unique("api_consumer", keep="first")
        names = dict(named.iter_rows())
    try:
        hashed = keyed_hash(keys, load_secret(create=False), "app").to_list()
        tags = [None if h is None else f"{h >> 40:06x}" for h in hashed]
    except SecretError:  # no secret: a number per table, still not the key
        tags = [f"#{i + 1}" for i in range(len(keys))]
    unregistered = {"vi": "Ứng dụng chưa đăng ký", "en": "Unregistered application"}[lang]
    no_key = {"vi": "Không có khóa ứng dụng", "en": "No application key"}[lang]
    return [
        no_key if key is None else names.get(key) or f"{unregistered} {tag}"
        for key, tag in zip(keys.to_list(), tags, strict=True)
    ]
