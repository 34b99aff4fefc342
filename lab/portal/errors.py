"""Errors of the portal client and harvester: narrow :class:`~lab.errors.FetchError` subclasses.

Every message is one line naming the dataset and the cause, never the account's name or password.
"""

from __future__ import annotations

from lab.errors import FetchError


class PortalError(FetchError):
    """The portal's API or pages could not be read."""


class PortalAccountError(PortalError):
    """No portal account is configured, or the portal refused it (HTML page, 401, 403)."""


class PortalAnswerError(PortalError):
    """The API answered something that is not rows: not JSON, an error object, an unknown shape."""


class PortalPagingError(PortalError):
    """Paging went wrong: an empty page in the middle, a repeated page, more rows than asked."""


class PortalSchemaError(PortalError):
    """The columns changed between two pages of one dataset."""


class HarvestError(PortalError):
    """The portal's listing pages could not be read or the catalog could not be merged."""
