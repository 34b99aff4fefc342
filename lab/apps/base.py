"""What every public app shares: a language switch, untrusted-input checks, plain error messages.

A visitor can send any value over the widget channel, whatever the widget shows: every value is checked
against what the app offers before it is used (:func:`allowed`, :func:`bounded_text`), and a failure
inside a callback shows a plain message in the visitor's language, never a traceback (the log keeps it).
"""

from __future__ import annotations

import functools
import logging
import sys
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import ipywidgets as widgets

from lab.i18n import LANGUAGES

log = logging.getLogger(__name__)

T = TypeVar("T")

ERROR_MESSAGE = {
    "vi": "Không hiển thị được kết quả. Vui lòng thử lại.",
    "en": "Could not show the results. Please try again.",
}


def allowed(value: Any, options: Sequence[T], default: T) -> T:
    """``value`` if it is one of ``options``, else ``default`` (a forged widget value is ignored)."""
    return value if value in options else default


def bounded_text(value: Any, limit: int = 100) -> str:
    """A visitor's text input as a string of at most ``limit`` characters, control characters removed."""
    text = value if isinstance(value, str) else ""
    return "".join(ch for ch in text[:limit] if ch.isprintable())


def language_switch(lang: str = "vi") -> widgets.ToggleButtons:
    """The Tiếng Việt / English switch every app shows first."""
    return widgets.ToggleButtons(
        options=[("Tiếng Việt", "vi"), ("English", "en")], value=allowed(lang, LANGUAGES, "vi")
    )


_APPS: weakref.WeakSet[App] = weakref.WeakSet()  # the apps of this kernel, told when a widget message fails


def _server_log_handler() -> logging.Handler:
    """A handler writing to the kernel process's own stderr (the server's log), never to ``sys.stderr``,
    which ipykernel forwards to the visitor's page."""
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    return handler


def guard_kernel() -> None:
    """Keep tracebacks and server paths away from the visitor, in this kernel (idempotent).

    A forged widget message (``comm_open``, ``comm_msg``, ``comm_close`` over the websocket) can make
    ipywidgets call ``showtraceback`` (a full traceback with server paths, sent on iopub to the page) and
    ipykernel log through Python's last-resort handler (``sys.stderr``, also forwarded to the page). Here
    the errors of comm messages go to the server log only, and the apps of this kernel show the plain
    message instead; every log record goes to the process's real stderr. (``lab.serve`` also drops error
    and stderr messages on the visitors' websockets, whatever the kernel sends.)
    """
    root = logging.getLogger()
    if not any(getattr(h, "_lab_server_log", False) for h in root.handlers):
        handler = _server_log_handler()
        handler._lab_server_log = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    try:
        from IPython import get_ipython
    except ImportError:  # not in IPython
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_lab_guarded", False):
        return
    original = shell.showtraceback

    def showtraceback(*args: Any, **kwargs: Any) -> None:
        kernel = getattr(shell, "kernel", None)
        try:
            parent = kernel.get_parent("shell") if kernel is not None else {}
        except TypeError:  # older ipykernel: get_parent() takes no channel
            parent = kernel.get_parent()
        if not str((parent or {}).get("header", {}).get("msg_type", "")).startswith("comm_"):
            return original(*args, **kwargs)
        log.error("a widget message failed", exc_info=sys.exc_info())
        for app in list(_APPS):
            app.message.value = f"<p class='lab-error'>{ERROR_MESSAGE[app.lang]}</p>"
        return None

    shell.showtraceback = showtraceback
    shell._lab_guarded = True
    _refresh_before_handing_state()


def _refresh_before_handing_state() -> None:
    """When a page asks for the widgets' state (it has just connected: a preheated kernel may have waited
    in the pool since the store changed), let every app read fresh figures first."""
    original = widgets.Widget._handle_control_comm_msg

    def handle(msg: dict) -> Any:
        data = (msg.get("content") or {}).get("data") if isinstance(msg, dict) else None
        if isinstance(data, dict) and data.get("method") == "request_states":
            for app in list(_APPS):
                if app.safely(app.refresh_if_stale)():
                    app.safely(app.render)()
        return original(msg)

    widgets.Widget._handle_control_comm_msg = staticmethod(handle)


class App:
    """Base of the public apps: ``self.language``, ``self.widget``, and :meth:`safely` for callbacks.

    Subclasses build their widgets, call :meth:`observe` on each input and implement :meth:`render`.
    """

    def __init__(self, lang: str = "vi") -> None:
        guard_kernel()
        self.language = language_switch(lang)
        self.message = widgets.HTML()
        self.language.observe(self._on_change, names="value")
        _APPS.add(self)

    @property
    def lang(self) -> str:
        """The visitor's language, checked."""
        return allowed(self.language.value, LANGUAGES, "vi")

    def observe(self, *inputs: widgets.Widget) -> None:
        """Re-render when any of ``inputs`` changes."""
        for w in inputs:
            w.observe(self._on_change, names="value")

    def _on_change(self, change: dict) -> None:
        self.safely(self.render)()

    def safely(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a callback: on any exception, log it and show a plain message instead of a traceback."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                self.message.value = ""
                return fn(*args, **kwargs)
            except Exception:  # a visitor must never see a traceback; the server log keeps it
                log.exception("%s failed", type(self).__name__)
                self.message.value = f"<p class='lab-error'>{ERROR_MESSAGE[self.lang]}</p>"
                return None

        return wrapper

    def refresh_if_stale(self) -> bool:
        """Read fresh figures if what the app was built from changed; True if it did (default: never)."""
        return False

    def render(self) -> None:
        """Redraw the app from its (checked) inputs."""
        raise NotImplementedError
