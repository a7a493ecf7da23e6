"""Watch lists: what an operator asks adref to ingest, as YAML an editor or the Prefect UI holds.

A list is read entry by entry, so one bad line (a typo, an unknown key) is reported and skipped
while the rest still runs: an hourly schedule should not stop for one mistake.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from adref.errors import InputError
from adref.sources.urls import looks_like_url, redact_url

__all__ = ["BadEntry", "Source", "WatchList", "combine", "parse_watchlist", "read_file"]

VARIABLE = "adref_watchlist"  # the Prefect Variable holding a watch list's YAML text


class _Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: str | None = None
    tags: list[str] = Field(default_factory=list)
    provider: str | None = None
    max_per_source: int | None = Field(default=None, ge=1)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    folder: str | None = None
    owner: str | None = None
    tags: list[str] | None = None
    provider: str | None = None
    max: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_target(self) -> _Entry:
        if (self.url is None) == (self.folder is None):
            raise ValueError("give exactly one of url: or folder:")
        return self


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: _Defaults = Field(default_factory=_Defaults)
    sources: list[Any] = Field(default_factory=list)


@dataclass(frozen=True)
class Source:
    """One entry of a watch list, with the list's defaults applied."""

    origin: str  # the file's path or "Prefect Variable adref_watchlist"
    index: int  # 1-based, as a person counts the entries
    kind: Literal["url", "path"]
    target: str  # a URL, or a folder (or file) path with ~ expanded
    owner: str | None = None
    tags: tuple[str, ...] = ()
    provider: str | None = None
    max_per_source: int | None = None

    @property
    def label(self) -> str:
        shown = redact_url(self.target) if self.kind == "url" else self.target
        return f"{shown} (entry {self.index} of {self.origin})"


@dataclass(frozen=True)
class BadEntry:
    origin: str
    index: int | None  # None: the whole list could not be read
    reason: str

    def line(self) -> str:
        where = self.origin if self.index is None else f"entry {self.index} of {self.origin}"
        return f"{where}: {self.reason}"


@dataclass
class WatchList:
    sources: list[Source] = field(default_factory=list)
    bad: list[BadEntry] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)


def parse_watchlist(text: str, origin: str) -> WatchList:
    """Every good entry as a Source, every bad one as a BadEntry; a list that is not a watch
    list at all (not YAML, the wrong shape) is an InputError."""
    import yaml  # lazy: ~10 ms; the CLI imports this module to start, only reading a list needs it

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputError(
            f"cannot read the watch list {origin}", f"it is not valid YAML{where}"
        ) from None
    if raw is None:
        raw = {}
    if isinstance(raw, list):
        raw = {"sources": raw}
    if not isinstance(raw, dict):
        raise InputError(
            f"cannot read the watch list {origin}",
            "it should hold `sources:` (a list) and optionally `defaults:`",
        )
    try:
        doc = _Document.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"cannot read the watch list {origin}", _reason(exc, _Document)) from None
    found = WatchList(origins=[origin])
    for number, item in enumerate(doc.sources, start=1):
        try:
            found.sources.append(_source(item, doc.defaults, origin, number))
        except (ValidationError, ValueError) as exc:
            reason = _reason(exc, _Entry) if isinstance(exc, ValidationError) else str(exc)
            found.bad.append(BadEntry(origin, number, reason))
    return found


def read_file(path: Path) -> WatchList:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"no watch list at {path}",
            "the file does not exist",
            "Write one (see adref/deployments/watchlist.example.yaml) or set ADREF_WATCHLIST",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"cannot read the watch list {path}", why) from None
    return parse_watchlist(text, str(path))


def combine(parts: list[WatchList | InputError]) -> WatchList:
    """The sources of every list that could be read, in order; a list that could not is a bad
    entry as long as another one could, and the error itself when none could."""
    readable = [p for p in parts if isinstance(p, WatchList)]
    errors = [p for p in parts if isinstance(p, InputError)]
    if not readable:
        if errors:
            raise errors[0]
        raise InputError("no watch list", "nothing to ingest", "Write one or give its path")
    out = WatchList()
    for part in readable:
        out.sources += part.sources
        out.bad += part.bad
        out.origins += part.origins
    out.bad += [BadEntry("watch list", None, e.one_line().rstrip(".")) for e in errors]
    return out


def _source(item: Any, defaults: _Defaults, origin: str, index: int) -> Source:
    if isinstance(item, str):
        text = item.strip()
        if not text:
            raise ValueError("an empty entry")
        entry = _Entry(url=text) if looks_like_url(text) else _Entry(folder=text)
    elif isinstance(item, dict):
        entry = _Entry.model_validate(item)
    else:
        raise ValueError("an entry is a URL, a folder path, or a mapping with url: or folder:")
    given = (entry.url if entry.url is not None else str(entry.folder)).strip()
    if not given:  # Path("") is the current folder: never what an empty line means
        raise ValueError("an empty entry")
    if entry.url is not None:
        kind: Literal["url", "path"] = "url"
        target = given
    else:
        kind, target = "path", str(Path(given).expanduser())
    return Source(
        origin=origin,
        index=index,
        kind=kind,
        target=target,
        owner=entry.owner or defaults.owner,
        tags=tuple(entry.tags if entry.tags is not None else defaults.tags),
        provider=entry.provider or defaults.provider,
        max_per_source=entry.max or defaults.max_per_source,
    )


def _reason(exc: ValidationError, model: type[BaseModel]) -> str:
    """pydantic's first complaint, on one line and without echoing the input; a key the list
    does not know is named with the keys it does (and the one it was likely meant to be)."""
    first = exc.errors(include_input=False, include_url=False)[0]
    loc = [str(p) for p in first.get("loc", ()) if p != "__root__"]
    where = ".".join(loc)
    if first.get("type") == "extra_forbidden" and loc:
        keys = list(_model_at(model, loc[:-1]).model_fields)
        close = difflib.get_close_matches(loc[-1], keys, n=1)
        meant = f", did you mean {close[0]}:?" if close else ""
        return f"{where}: unknown key{meant} (known: {', '.join(k + ':' for k in keys)})"
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _model_at(model: type[BaseModel], path: list[str]) -> type[BaseModel]:
    for name in path:
        field_type = model.model_fields[name].annotation
        if not (isinstance(field_type, type) and issubclass(field_type, BaseModel)):
            break
        model = field_type
    return model
