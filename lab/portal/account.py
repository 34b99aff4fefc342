"""The portal account: from ``LAB_PORTAL_USER`` / ``LAB_PORTAL_PASSWORD`` or ``~/.netrc``.

The password lives only in the :class:`Account` object handed to :mod:`requests` as Basic
authentication: its ``repr`` hides it, and no message, log line, cache file or catalog entry of the
lab carries the user name or the password (messages say where the account came from, not what it is).
"""

from __future__ import annotations

import netrc
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from lab.portal.errors import PortalAccountError

USER_VAR = "LAB_PORTAL_USER"
PASSWORD_VAR = "LAB_PORTAL_PASSWORD"


@dataclass(frozen=True, repr=False)
class Account:
    """A portal account for HTTP Basic authentication.

    Attributes
    ----------
    user, password
        The credentials (never shown: ``repr`` and ``str`` give only :attr:`source`).
    source
        Where they came from, safe to print: ``"LAB_PORTAL_USER/LAB_PORTAL_PASSWORD"`` or a netrc path.
    """

    user: str = field(repr=False)
    password: str = field(repr=False)
    source: str = ""

    def __repr__(self) -> str:
        return f"Account(from {self.source})"

    __str__ = __repr__

    @property
    def auth(self) -> tuple[bytes, bytes]:
        """The ``(user, password)`` pair :mod:`requests` takes as Basic authentication, as UTF-8 bytes.

        RFC 7617 (``charset="UTF-8"``): both are normalised to Unicode NFC (its OpaqueString and
        UsernameCasePreserved profiles) and sent as UTF-8, so a password with Vietnamese letters
        (``Mật-khẩu``) typed on any keyboard reaches the portal as the same bytes. (:mod:`requests`
        encodes text credentials as Latin-1, which cannot hold them.)
        """
        return (
            unicodedata.normalize("NFC", self.user).encode("utf-8", "surrogateescape"),
            unicodedata.normalize("NFC", self.password).encode("utf-8", "surrogateescape"),
        )


def netrc_path() -> Path:
    """The netrc file: ``$NETRC`` if set (as curl and requests read it), else ``~/.netrc``."""
    value = os.environ.get("NETRC", "").strip()
    return Path(value).expanduser() if value else Path("~/.netrc").expanduser()


def _from_netrc(host: str) -> Account | None:
    path = netrc_path()
    if not path.is_file():
        return None
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except netrc.NetrcParseError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        raise PortalAccountError(  # exc.msg may quote a token of the file (a password): not shown
            f"cannot read the portal account from {path}: not valid netrc syntax{where}; fix the file "
            f"or set {USER_VAR} and {PASSWORD_VAR}"
        ) from None
    except OSError as exc:
        raise PortalAccountError(f"cannot read {path} ({exc.strerror or type(exc).__name__})") from None
    if not entry:
        return None
    login, _account, password = entry
    if not login or not password:
        return None
    return Account(login, password, source=str(path))


def find_account(base_url: str) -> Account:
    """The portal account for ``base_url``: environment first, then the netrc entry for its host.

    Parameters
    ----------
    base_url
        The portal's address (its host picks the ``machine`` line of the netrc file).

    Returns
    -------
    Account
        The credentials and where they came from.

    Raises
    ------
    lab.portal.errors.PortalAccountError
        No account anywhere, only one of the two variables set, or an unreadable netrc file. The
        message says what to set; it never repeats a value.
    """
    user = os.environ.get(USER_VAR, "")
    password = os.environ.get(PASSWORD_VAR, "")
    if user and password:
        return Account(user, password, source=f"{USER_VAR}/{PASSWORD_VAR}")
    if user or password:
        missing = PASSWORD_VAR if user else USER_VAR
        raise PortalAccountError(f"{missing} is not set: set both {USER_VAR} and {PASSWORD_VAR}")
    host = urlsplit(base_url).hostname or base_url
    account = _from_netrc(host)
    if account is None:
        raise PortalAccountError(
            f"no portal account: the data API needs a registered account; set {USER_VAR} and "
            f"{PASSWORD_VAR}, or add 'machine {host} login ... password ...' to {netrc_path()}"
        )
    return account
