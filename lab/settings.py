"""The lab's settings read from the environment and the command line, in one place.

Every folder or file the lab is pointed at (``$LAB_DEMO``, ``$LAB_CATALOG``, ``$LAB_USAGE_STORE``,
``$LAB_CACHE``, ``$LAB_MIRROR`` …, and ``--catalog``, ``--store``, ``--mirror``, ``--registry`` on the
command line) may be given relative to the directory the user typed the command in. Kernels (Voilà,
papermill, JupyterLab) run in the notebook's own folder, where such a relative path means something else
(``make app`` once gave every app an error cell). So the entry points (the ``lab`` command, ``make lab``)
call :func:`resolve_environment` once, at the start: every relative path setting becomes absolute,
against the caller's working directory, and is exported so that every kernel, worker and subprocess
inherits the absolute value. The library reads paths only through :func:`path` (or the named helpers
below), which applies the same rule when no entry point ran (a kernel of a plain ``jupyter lab`` or of
papermill: relative values are taken against the directory the user started the server in).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Environment variables holding a folder or file path, and their defaults (None: no default).
PATH_SETTINGS: dict[str, Path | None] = {
    "LAB_DEMO": PROJECT_ROOT / "data" / "demo",
    "LAB_CACHE": PROJECT_ROOT / "data" / "cache",
    "LAB_MIRROR": None,
    "LAB_CATALOG": None,  # lab.catalog.default_catalog_path: datasets.yaml of the project
    "LAB_USAGE_STORE": PROJECT_ROOT / "data" / "store",
    "LAB_TARGETS": PROJECT_ROOT / "targets.yaml",
    "LAB_LINK_HISTORY": None,
    "LAB_USAGE_SECRET_FILE": None,
    "LAB_PROVENANCE_FILE": None,
}

#: Command-line options holding a path setting (argparse destinations) and the variable each stands for.
PATH_OPTIONS: dict[str, str | None] = {
    "catalog": "LAB_CATALOG",
    "store": "LAB_USAGE_STORE",
    "mirror": "LAB_MIRROR",
    "registry": None,
}

_TRUE = {"1", "true", "yes", "on"}


def _kernel_launch_dir() -> Path | None:
    """Where the user started the Jupyter server (or papermill) that started this kernel, if this process
    is a kernel: ``$PWD`` (set by the shell, kept by ``chdir`` and passed on to kernels), else the
    server's working directory from ``/proc``; None in any other process."""
    parent = os.environ.get("JPY_PARENT_PID", "").strip()
    if not parent.isdigit() or "ipykernel" not in sys.modules:
        return None
    shell_dir = os.environ.get("PWD", "").strip()
    if shell_dir and Path(shell_dir).is_absolute() and Path(shell_dir).is_dir():
        return Path(shell_dir)
    try:
        return Path(os.readlink(f"/proc/{parent}/cwd"))
    except OSError:
        return None


def base_dir() -> Path:
    """The directory relative path settings are taken against: this process's working directory, or in
    a kernel whose settings were not resolved by an entry point, the directory its server was started in
    (:func:`_kernel_launch_dir`)."""
    return _kernel_launch_dir() or Path.cwd()


def absolute(value: str | os.PathLike[str], base: Path | None = None) -> Path:
    """``value`` (``~`` expanded) made absolute against ``base`` (default :func:`base_dir`), not resolving
    symbolic links."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(os.path.normpath((base or base_dir()) / path))


def path(name: str, env: Mapping[str, str] | None = None) -> Path | None:
    """The absolute value of the path setting ``name`` (a key of :data:`PATH_SETTINGS`), else its default
    (None when it has none)."""
    value = (os.environ if env is None else env).get(name, "").strip()
    return absolute(value) if value else PATH_SETTINGS.get(name)


def resolve_environment(
    env: MutableMapping[str, str] | None = None, cwd: Path | None = None
) -> dict[str, str]:
    """Make every relative path setting in ``env`` (default ``os.environ``, changed in place) absolute
    against ``cwd`` (default this process's working directory). Call it once, at the start of an entry
    point, before any kernel, worker or subprocess starts.

    Returns
    -------
    dict[str, str]
        The settings that changed, with their new values.
    """
    env = os.environ if env is None else env
    base = cwd or Path.cwd()
    changed = {}
    for name in PATH_SETTINGS:
        value = env.get(name, "").strip()
        if value and not Path(value).expanduser().is_absolute():
            changed[name] = env[name] = str(absolute(value, base))
    return changed


def resolve_args(args: argparse.Namespace, cwd: Path | None = None) -> None:
    """Make the path options of a parsed command line (:data:`PATH_OPTIONS`) absolute against ``cwd``
    (default the working directory), in place."""
    base = cwd or Path.cwd()
    for dest in PATH_OPTIONS:
        value = getattr(args, dest, None)
        if isinstance(value, str) and value.strip():
            setattr(args, dest, str(absolute(value.strip(), base)))


def child_env(
    base: Mapping[str, str] | None = None, **settings: str | os.PathLike[str] | None
) -> dict[str, str]:
    """The environment of a kernel, worker or subprocess: ``base`` (default ``os.environ``) with its path
    settings absolute, and ``settings`` (``LAB_CATALOG=...``; None leaves a variable as it is) set to
    absolute paths."""
    env = dict(os.environ if base is None else base)
    resolve_environment(env)
    for name, value in settings.items():
        if value is not None:
            env[name] = str(absolute(value, Path.cwd()))
    return env


# ------------------------------------------------------------------------------------- named settings
def demo_dir() -> Path:
    """The generated demo portal: ``$LAB_DEMO``, default ``<project>/data/demo``."""
    return path("LAB_DEMO") or PROJECT_ROOT / "data" / "demo"


def cache_dir() -> Path:
    """The download cache: ``$LAB_CACHE``, default ``<project>/data/cache``."""
    return path("LAB_CACHE") or PROJECT_ROOT / "data" / "cache"


def mirror_dir() -> Path | None:
    """The offline mirror folder from ``$LAB_MIRROR``, or None when it is not set."""
    return path("LAB_MIRROR")


def usage_store_dir() -> Path:
    """The usage store: ``$LAB_USAGE_STORE``, default ``<project>/data/store``."""
    return path("LAB_USAGE_STORE") or PROJECT_ROOT / "data" / "store"


def catalog_file() -> Path | None:
    """``$LAB_CATALOG`` when set (absolute), else None (the project's ``datasets.yaml``)."""
    value = os.environ.get("LAB_CATALOG", "").strip()
    return absolute(value) if value else None


def offline() -> bool:
    """True when ``$LAB_OFFLINE`` is set to 1 (or true/yes/on): the network is not used."""
    return os.environ.get("LAB_OFFLINE", "").strip().lower() in _TRUE


__all__ = [
    "PATH_OPTIONS",
    "PATH_SETTINGS",
    "PROJECT_ROOT",
    "absolute",
    "base_dir",
    "cache_dir",
    "catalog_file",
    "child_env",
    "demo_dir",
    "mirror_dir",
    "offline",
    "path",
    "resolve_args",
    "resolve_environment",
    "usage_store_dir",
]
