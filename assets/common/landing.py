"""The landing area: where source files arrive before the pipeline reads them.

The landing area is a boundary. A file is read only when it is a regular file inside the landing
root (no symbolic link, nothing resolving elsewhere) and its name matches a contract. A refused
file is recorded with its name and the reason, never with any of its content.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import dagster as dg

from assets.common.contracts import list_contracts, load_contract


class RefusedFile(ValueError):
    """A landing file the pipeline will not read; the message names it and says why, no content."""


class LandingArea(dg.ConfigurableResource):  # type: ignore[misc]
    """A directory of received files, one sub-folder per source."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)

    def file(self, relative: str) -> Path:
        return self.root / relative


def inside(root: Path, path: Path) -> Path:
    """`path` if it is safe to read: no symlink on the way from `root`, nothing outside it."""
    relative = path.relative_to(root) if path.is_absolute() else path
    current = root
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise RefusedFile(f"{relative.as_posix()}: a symbolic link, refused unread")
    if not path.resolve().is_relative_to(root.resolve()):
        raise RefusedFile(f"{relative.as_posix()}: resolves outside the landing area")
    if path.exists() and not path.is_file():
        raise RefusedFile(f"{relative.as_posix()}: not a regular file")
    return path


@dataclass(frozen=True)
class Pattern:
    """A name the landing area accepts: which dataset it feeds, and how a month is read from it."""

    dataset: str
    regex: re.Pattern[str]


def _contract_patterns() -> list[Pattern]:
    found = []
    for contract_id in list_contracts():
        contract = load_contract(contract_id)
        source = contract.custom.get("source")
        if source and source.get("root") != "reference":
            stem, _, _ = source["landing"].rpartition(".")
            formats = source.get("formats") or [source["landing"].rpartition(".")[2]]
            month = r"(?P<month>[0-9]{4}-[0-9]{2})"
            parts = stem.split("{month}")
            body = month.join(re.escape(p) for p in parts)
            suffix = "|".join(re.escape(f) for f in formats)
            found.append(Pattern(contract_id, re.compile(f"^{body}\\.(?:{suffix})$", re.ASCII)))
        approvals = contract.custom.get("approvals_file")
        if approvals:
            found.append(Pattern(contract_id, re.compile(f"^{re.escape(approvals['landing'])}$")))
        for item in (contract.custom.get("lists") or {}).values():
            folder = re.escape(item["landing"].rstrip("/") + "/")
            name = item["file_pattern"].removeprefix("^").removesuffix("$")
            pattern = re.compile(f"^{folder}{name}$", re.ASCII)
            found.append(Pattern(f"sanctions:{item['landing']}", pattern))
    # Published trade statistics: any CSV name in a known format's folder (its parser checks it).
    from assets.trade_statistics.formats import FORMATS, LANDING

    formats = "|".join(re.escape(name) for name in FORMATS)
    found.append(
        Pattern(
            "published_trade_statistics",
            re.compile(f"^{re.escape(LANDING)}/(?:{formats})/[^/]+\\.csv$"),
        )
    )
    return found


@cache
def accepted_patterns() -> tuple[Pattern, ...]:
    """Every landing name a contract (or a registered sanctions list) accepts."""
    return tuple(_contract_patterns())


@dataclass(frozen=True)
class LandingEntry:
    """One file found in the landing area and what the pipeline makes of it."""

    path: str
    dataset: str | None
    month: str | None
    size_bytes: int | None
    refused: str | None


def _month_ok(month: str) -> bool:
    year, number = month.split("-")
    return 1 <= int(number) <= 12 and 1990 <= int(year) <= 2100


def classify(root: Path, relative: str) -> LandingEntry:
    """What one landing file is: the dataset it feeds, or why it is refused (never its content)."""
    path = root / relative
    try:
        inside(root, path)
    except RefusedFile as refusal:
        return LandingEntry(relative, None, None, None, str(refusal))
    size = path.stat().st_size
    try:
        dataset, month = classify_name(relative)
    except RefusedFile as refusal:
        return LandingEntry(relative, None, None, size, str(refusal))
    return LandingEntry(relative, dataset, month, size, None)


def classify_name(relative: str) -> tuple[str, str | None]:
    """(dataset, month) a landing path feeds, judged by its name alone; else RefusedFile."""
    for pattern in accepted_patterns():
        match = pattern.regex.match(relative)
        if match is None:
            continue
        month = match.groupdict().get("month")
        if month is not None and not _month_ok(month):
            raise RefusedFile(f"{relative}: not a month")
        return pattern.dataset, month
    raise RefusedFile(f"{relative}: name matches no contract")


def inventory(root: Path) -> list[LandingEntry]:
    """Every file (and link) under the landing root, classified; links are not followed."""
    found = []
    for folder, directories, files in os.walk(root, followlinks=False):
        base = Path(folder)
        # a linked directory is listed (and refused) as an entry, never walked into
        for name in sorted(files + [d for d in directories if (base / d).is_symlink()]):
            found.append(classify(root, (base / name).relative_to(root).as_posix()))
        directories[:] = sorted(d for d in directories if not (base / d).is_symlink())
    return sorted(found, key=lambda entry: entry.path)


def months_delivered(root: Path, dataset: str | None = None) -> list[str]:
    """The months with an accepted file of a monthly dataset (any, when not named)."""
    return sorted(
        {
            e.month
            for e in inventory(root)
            if e.month and not e.refused and (dataset is None or e.dataset == dataset)
        }
    )
