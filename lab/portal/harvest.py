"""``lab portal harvest``: the portal's dataset listing → catalog entries, merged into a catalog file.

Listing pages ``/dichvu?p=1, 2, ...`` give the datasets' ids and titles; each dataset page
``/dulieuchitiet/<id>`` gives its metadata (:mod:`lab.portal.zk`), mapped to catalog fields
(:mod:`lab.portal.mapping`) and merged into the file without losing hand-written values
(:mod:`lab.portal.merge`). The pages are public: no account is sent. Requests are paced and retried
(:mod:`lab.portal.client`). A dataset page that cannot be fetched is skipped and reported; a listing
page that cannot be fetched stops the harvest before anything is written.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
from tqdm import tqdm

from lab import fetch as lab_fetch
from lab.catalog import read_catalog_file, validate
from lab.errors import FetchError, OfflineError
from lab.portal.client import DEFAULT_BASE_URL, Answer, PortalClient
from lab.portal.errors import HarvestError
from lab.portal.mapping import Mapped, PortalRecord, to_entry
from lab.portal.merge import MARKER, EntryChange, merge_file
from lab.portal.zk import listing_dates, listing_links, read_dataset_page

log = logging.getLogger(__name__)

LISTING_PATH = "/dichvu"
DATASET_PATH = "/dulieuchitiet/{id}"
#: More listing pages than this is a listing that never ends (or repeats itself under new numbers).
MAX_LISTING_PAGES = 10_000
CATALOG_TITLE = {
    "vi": "Danh mục thu thập từ cổng dữ liệu mở Đà Nẵng",
    "en": "Catalog harvested from the Đà Nẵng open data portal",
}


@dataclass
class HarvestReport:
    """What a harvest read, wrote and could not read.

    Attributes
    ----------
    out
        The catalog file merged into.
    base_url
        The portal harvested.
    pages
        Listing pages read.
    datasets
        Datasets listed (each once).
    changes
        One :class:`~lab.portal.merge.EntryChange` per dataset whose page was read.
    unread
        Entry id → what its page did not say or said unreadably.
    unmapped
        Entry id → catalog field → the portal's value the mapping table does not know.
    failed
        Portal id → why its dataset page could not be fetched (the dataset was skipped).
    written
        Whether the file changed.
    problems
        ``lab catalog validate`` lines about the harvested entries (after the merge).
    """

    out: Path
    base_url: str
    pages: int = 0
    datasets: int = 0
    changes: list[EntryChange] = field(default_factory=list)
    unread: dict[str, list[str]] = field(default_factory=dict)
    unmapped: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    written: bool = False
    problems: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        """How many entries were ``added``, ``updated`` or ``unchanged``."""
        return sum(1 for c in self.changes if c.action == action)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        data = asdict(self)
        data["out"] = str(self.out)
        data["failed"] = {str(k): v for k, v in self.failed.items()}
        return data

    def lines(self) -> list[str]:
        """The report in lines of text, for the command line."""
        out = [
            f"harvested {self.datasets} datasets from {self.pages} listing pages of {self.base_url}: "
            f"{self.count('added')} added, {self.count('updated')} updated, "
            f"{self.count('unchanged')} unchanged" + (f", {len(self.failed)} skipped" if self.failed else "")
        ]
        for c in self.changes:
            if c.action == "added":
                out.append(f"added     {c.id}")
            elif c.action == "updated":
                fields = ", ".join([*(f"+{f}" for f in c.added), *c.updated])
                out.append(f"updated   {c.id}: {fields}")
            for name, value in c.kept.items():
                out.append(f"kept      {c.id}: {name} (the portal says {value!r})")
        for pid, cause in self.failed.items():
            out.append(f"skipped   portal dataset {pid}: {cause}")
        for entry, lines in self.unread.items():
            out.append(f"unread    {entry}: {'; '.join(lines)}")
        for entry, fields in self.unmapped.items():
            values = "; ".join(f"{k} {v!r}" for k, v in fields.items())
            out.append(
                f"unmapped  {entry}: {values} (add to lab/vocab/portal_congdulieu.yaml or fix by hand)"
            )
        if self.problems:
            out.append(
                f"{len(self.problems)} catalog problem(s) in the harvested entries: run "
                f"`lab catalog validate --catalog {self.out}`"
            )
        out.append(f"{'wrote' if self.written else 'unchanged:'} {self.out}")
        return out


def _text(answer: Answer) -> str:
    return answer.body.decode("utf-8", errors="replace")


def read_listing(
    client: PortalClient, *, pages: int | None = None, progress: bool = True
) -> tuple[list[tuple[int, str, str | None]], int]:
    """The datasets the listing pages link to (id, title, the date shown beside it), each once, in
    order, and how many pages were read.

    Parameters
    ----------
    client
        A client for the portal.
    pages
        Read at most this many listing pages (default: until a page lists nothing new).
    progress
        Show a tqdm bar on a terminal.

    Raises
    ------
    lab.portal.errors.HarvestError
        A listing page cannot be fetched, or the first one links to no dataset.
    """
    found: dict[int, tuple[str, str | None]] = {}
    read = 0
    limit = min(pages, MAX_LISTING_PAGES) if pages else MAX_LISTING_PAGES
    with tqdm(
        desc="listing", unit="page", leave=False, disable=not progress or not sys.stderr.isatty()
    ) as bar:
        for number in range(1, limit + 1):
            where = f"listing page {number}"
            try:
                answer = client.get(LISTING_PATH, {"p": number}, file=where)
            except FetchError as exc:
                raise HarvestError(f"{exc.message}; nothing was written", file=where) from None
            if answer.status != 200:
                raise HarvestError(
                    f"HTTP {answer.status} {answer.reason} from {client.url(LISTING_PATH, {'p': number})}; "
                    "nothing was written",
                    file=where,
                )
            text = _text(answer)
            links = listing_links(text)
            dates = listing_dates(text)
            read += 1
            bar.update(1)
            new = [(i, t) for i, t in links if i not in found]
            if not links and number == 1:
                raise HarvestError(
                    "links to no dataset (/dulieuchitiet/<id>): not the portal's listing, or its layout "
                    "changed; nothing was written",
                    file=client.url(LISTING_PATH, {"p": number}),
                )
            if not new:
                log.info("%s lists nothing new: the listing ends", where)
                break
            found.update((i, (t, dates.get(i))) for i, t in new)
    return [(i, t, d) for i, (t, d) in found.items()], read


def read_dataset(client: PortalClient, portal_id: int, title: str, listed: str | None = None) -> PortalRecord:
    """The metadata of one dataset page.

    Raises
    ------
    lab.errors.FetchError
        The page cannot be fetched (after the retries) or answers another status than 200.
    """
    path = DATASET_PATH.format(id=portal_id)
    answer = client.get(path, file=path)
    if answer.status != 200:
        raise FetchError(f"HTTP {answer.status} {answer.reason}", file=path)
    page = read_dataset_page(_text(answer))
    return PortalRecord(
        id=portal_id,
        title=title or page.title or "",
        values=page.values,
        missing=tuple(page.missing),
        api_id=page.api_id,
        listed=listed,
    )


def harvest(
    out: str | Path,
    *,
    base_url: str = DEFAULT_BASE_URL,
    pages: int | None = None,
    session: requests.Session | None = None,
    progress: bool = True,
) -> HarvestReport:
    """Harvest the portal's listing into the catalog file ``out``.

    Parameters
    ----------
    out
        The catalog file to merge into (created if missing).
    base_url
        The portal's address (default the real portal); tests point it at a local server.
    pages
        Read at most this many listing pages.
    session
        A :class:`requests.Session` to reuse.
    progress
        Show tqdm bars on a terminal.

    Returns
    -------
    HarvestReport
        What changed, what was kept, what could not be read.

    Raises
    ------
    lab.errors.OfflineError
        ``LAB_OFFLINE=1``.
    lab.portal.errors.HarvestError
        The listing cannot be read, or the file cannot be merged or written.
    """
    base = base_url.rstrip("/")
    if lab_fetch.offline():
        raise OfflineError(f"LAB_OFFLINE=1 forbids the network: cannot read the listing of {base}")
    report = HarvestReport(out=Path(out), base_url=base)
    if report.out.exists():
        read_catalog_file(report.out)  # a broken file fails now, not after reading the whole portal
    mapped: list[Mapped] = []
    with PortalClient(base, session=session) as client:
        listed, report.pages = read_listing(client, pages=pages, progress=progress)
        report.datasets = len(listed)
        bar = tqdm(
            listed, desc="datasets", unit="page", leave=False, disable=not progress or not sys.stderr.isatty()
        )
        for portal_id, title, shown_date in bar:
            try:
                record = read_dataset(client, portal_id, title, shown_date)
            except FetchError as exc:
                report.failed[portal_id] = exc.message
                log.warning("skipping portal dataset %d: %s", portal_id, exc.message)
                continue
            mapped.append(to_entry(record, base_url=base))
    for m in mapped:
        if m.unread:
            report.unread[m.entry["id"]] = m.unread
        if m.unmapped:
            report.unmapped[m.entry["id"]] = m.unmapped
    note = f"Harvested from the Đà Nẵng open data portal ({base}) {MARKER}"
    report.changes, report.written = merge_file(
        report.out, [m.entry for m in mapped], note=note, title=CATALOG_TITLE, homepage=base
    )
    ids = {m.entry["id"] for m in mapped}
    report.problems = [str(p) for p in validate(report.out) if p.entry in ids]
    return report
