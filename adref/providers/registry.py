"""Name → provider, found through the ``adref.providers`` entry-point group.

adref's own providers are declared in its ``pyproject.toml`` exactly as a third-party
distribution declares one, so installing a package with::

    [project.entry-points."adref.providers"]
    mine = "my_package.module:MyProvider"

on a worker makes ``--provider mine`` work with no change to adref. A name is loaded only when it
is asked for: a plug-in whose import fails breaks its own name, with a clear error, never the
built-ins or ``available()``. When two distributions claim one name, adref's own wins (a
plug-in cannot silently replace ``local``) and a warning names the one left out.
"""

from __future__ import annotations

import functools
import logging
import sys
from importlib.metadata import EntryPoint, entry_points

from adref.errors import InputError
from adref.providers.base import Provider

GROUP = "adref.providers"
_OWN = "adref"

log = logging.getLogger(__name__)
_warned: set[tuple[str, str, str]] = set()  # each clash is said once per process


@functools.lru_cache(maxsize=8)
def _declared(path: tuple[str, ...]) -> tuple[EntryPoint, ...]:
    """Reading every installed distribution's metadata takes milliseconds and a run asks for
    providers several times, so it is read once per ``sys.path``: a package installed on a
    worker is seen when the worker starts again, as any Python package is."""
    return tuple(entry_points(group=GROUP))


def _entry_points() -> dict[str, EntryPoint]:
    chosen: dict[str, EntryPoint] = {}
    for ep in _declared(tuple(sys.path)):
        held = chosen.get(ep.name)
        if held is None:
            chosen[ep.name] = ep
            continue
        keep, drop = (ep, held) if _dist(ep) == _OWN and _dist(held) != _OWN else (held, ep)
        chosen[ep.name] = keep
        clash = (ep.name, _dist(keep), _dist(drop))
        if clash not in _warned:
            _warned.add(clash)
            log.warning("provider %r is declared by %s and %s; using %s's", *clash, clash[1])
    return chosen


def _dist(ep: EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else "?"


def available() -> list[str]:
    """Every installed provider's name, without importing any of them."""
    return sorted(_entry_points())


def get_provider(name: str) -> Provider:
    installed = _entry_points()
    found = installed.get(name)
    if found is None and not installed:
        raise InputError(
            f"unknown provider {name!r}",
            f"no distribution declares the {GROUP!r} entry points, not even adref",
            "reinstall adref (`make install`, or `uv sync` in its folder)",
        )
    if found is None:
        raise InputError(
            f"unknown provider {name!r}",
            f"installed providers: {', '.join(sorted(installed))}",
            "pass --provider with one of those names",
        )
    try:
        factory = found.load()
        provider = factory()
    except Exception as exc:
        raise InputError(
            f"provider {name!r} could not be loaded",
            f"{found.value} from {_dist(found)}: {type(exc).__name__}: {exc}"[:400],
            "reinstall or remove that package, or pick another --provider",
        ) from exc
    if not isinstance(provider, Provider):
        raise InputError(
            f"provider {name!r} is not an adref provider",
            f"{found.value} gave a {type(provider).__name__}, not an adref.providers.base.Provider",
            "fix that package's entry point, or pick another --provider",
        )
    return provider
