"""Built matchers kept between runs, one file per list version, matcher code and configuration.

Building a `Matcher` for the full SDN (normalizing and indexing 30,000 names) takes 2-3 s,
and a monthly customs run screens against lists that did not change. The built matcher is
pickled beside the build database; a run whose list version, configuration and matcher code
are those of a kept file loads it (about 0.1 s) instead. The key is a sha256 over the list's
three frames (as JSON lines), the configuration, every file of `assets/resolution/` and
`assets/sanctions/countries.py`, and the versions of Python and of the libraries the matcher
runs on, so any change to what the matcher is built from builds it again.

A new list version (a list change) is built with the records of the names the last build
normalized (`listed_names`: a file per list and code, `{list_id}-names-{code}.pickle`), so only
its new names are normalized: about 1 s for the full SDN. A kept file that cannot be read is
built again.

A pickle runs code when loaded: the folder must be as trusted as the code itself (it is the
pipeline's own, inside the warehouse folder, written atomically).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import polars as pl

from assets.common.code_digest import code_digest as digest_of_code
from assets.resolution import prebuild
from assets.resolution.config import MatchConfig
from assets.resolution.listed_names import NameRecords
from assets.resolution.matcher import Matcher

_PACKAGE = Path(__file__).resolve().parent
# what a built matcher depends on beside this package: the country names it reads
_OTHER_FILES = (_PACKAGE.parent / "sanctions" / "countries.py",)
# the libraries names are normalized (rigour, iuliia, fingerprints, normality), checked
# (python-stdnum), scored (rapidfuzz, numpy) and read (polars, PyYAML, pycountry) by
_LIBRARIES = (
    "polars",
    "rapidfuzz",
    "numpy",
    "rigour",
    "iuliia",
    "python-stdnum",
    "fingerprints",
    "normality",
    "PyYAML",
    "pycountry",
)


@cache
def code_digest() -> str:
    """sha256 of the matcher's code and data files, and of the libraries it runs on."""
    files = [p for p in sorted(_PACKAGE.rglob("*")) if "__pycache__" not in p.parts]
    return digest_of_code([*files, *_OTHER_FILES], _LIBRARIES)


def cache_key(list_id: str, parts: dict[str, pl.DataFrame], config: MatchConfig) -> str:
    """The key of a matcher built from these frames with this configuration and code."""
    digest = hashlib.sha256(code_digest().encode())
    digest.update(list_id.encode())
    digest.update(repr(config).encode())
    for name in sorted(parts):
        digest.update(name.encode())
        # as text, row by row: the same content in another memory layout hashes the same
        digest.update(parts[name].write_ndjson().encode())
    return digest.hexdigest()


def matcher_path(
    folder: Path, list_id: str, parts: dict[str, pl.DataFrame], config: MatchConfig
) -> Path:
    """The file a matcher for these parts is kept in."""
    return folder / f"{list_id}-{cache_key(list_id, parts, config)[:32]}.pickle"


def names_path(folder: Path, list_id: str) -> Path:
    """The file the records of a list's names are kept in (for this code)."""
    return folder / f"{list_id}-names-{code_digest()[:32]}.pickle"


def load_or_build(
    folder: Path, list_id: str, parts: dict[str, pl.DataFrame], config: MatchConfig
) -> tuple[Matcher, Path, bool]:
    """The matcher for these parts (loaded when kept, else built and kept); its file; loaded?"""
    path = matcher_path(folder, list_id, parts, config)
    matcher, how = _load_or_build_at(path, list_id, parts, config)
    return matcher, path, how != BUILT


# How a matcher came: kept by an earlier run, built ahead by this run's process (`prebuild`),
# or built where it was needed.
KEPT, BUILT_AHEAD, BUILT = "kept", "built ahead", "built"


def _load_or_build_at(
    path: Path, list_id: str, parts: dict[str, pl.DataFrame], config: MatchConfig
) -> tuple[Matcher, str]:
    """`load_or_build` with the file already named (its key hashes every row of the list)."""
    # a process the sanctions staging step started may be building it (`prebuild`), or be done
    ahead = prebuild.wait(path)
    kept = _read(path) if path.is_file() else None
    if isinstance(kept, Matcher):
        return kept, BUILT_AHEAD if ahead == prebuild.BUILT else KEPT
    why = f" ({ahead})" if ahead not in (None, prebuild.BUILT) else ""
    return build_at(path, list_id, parts, config), BUILT + why


def build_at(
    path: Path, list_id: str, parts: dict[str, pl.DataFrame], config: MatchConfig
) -> Matcher:
    """Build the matcher of these parts and keep it at `path` (its `matcher_path`), with the
    records of its names for the list's next version (only a saving: a kept file that cannot
    be read, or written, leaves the names to be normalized)."""
    names = names_path(path.parent, list_id)
    kept = _read(names) if names.is_file() else None
    records = NameRecords(kept if isinstance(kept, dict) else None)
    matcher = Matcher(
        parts["entries"],
        parts["aliases"],
        parts["identifiers"],
        config,
        list_id=list_id,
        records=records,
    )
    _write(path, matcher)
    with contextlib.suppress(OSError):
        _write(names, records.asked)  # this version's names, for the next one
    return matcher


def _read(path: Path) -> Any:
    """A kept pickle's value; None when it cannot be read (cut short, another format)."""
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError):
        return None


def _write(path: Path, value: object) -> None:
    """Pickle `value` to `path`, atomically."""
    _replace(path, lambda file: pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL))


def _replace(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write `path` anew through `write`, atomically (a reader sees the old file or the new
    one; two writers of the same file, each its own partial file, leave one whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{uuid.uuid4().hex}.partial")
    try:
        with partial.open("xb") as file:  # created with the umask's permissions
            write(file)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


# What a screened query is: a result depends on these and on the matcher only.
QUERY = ("name", "inn", "country")


class Screened(NamedTuple):
    """What `screened` found, and how."""

    # a row per query and candidate other than `no_match`: the query's columns, the matcher's
    found: pl.DataFrame
    # the kept files used (to keep when pruning)
    files: list[Path]
    # how many queries were screened now (the others' results were kept)
    screened_now: int
    # how the matcher came (`KEPT`, `BUILT_AHEAD`, `BUILT`); None when none was needed
    matcher: str | None


def screened(
    folder: Path,
    list_id: str,
    parts: dict[str, pl.DataFrame],
    config: MatchConfig,
    queries: pl.DataFrame,
) -> Screened:
    """What screening `queries` (organisations: `QUERY` columns) against the list finds, other
    than `no_match`: a row per query and candidate, the query's columns and the matcher's.

    Queries screened before by the same matcher (same list version, configuration and code:
    the same key as the kept matcher's) are not screened again: their results are kept beside
    the matcher (`.screened.parquet`), so a monthly run screens only the parties it has not
    seen, and loads no matcher when there are none. A query's results do not depend on the
    other queries screened with it (a test holds the matcher to that).
    """
    path = matcher_path(folder, list_id, parts, config)
    kept_path = path.with_suffix(".screened.parquet")
    asked = queries.select(QUERY).unique(maintain_order=True)
    kept = pl.read_parquet(kept_path) if kept_path.is_file() else None
    new = asked if kept is None else asked.join(kept, on=QUERY, how="anti", nulls_equal=True)
    how = None
    if new.height or kept is None:
        matcher, how = _load_or_build_at(path, list_id, parts, config)
        found = matcher.screen(new.with_columns(entity_type=pl.lit("organisation")))
        rows = new.with_row_index("query_row").with_columns(pl.col("query_row").cast(pl.Int64))
        results = (
            found.filter(pl.col("decision") != "no_match")
            .drop("query_name")
            .group_by("query_row")
            .agg(pl.struct(pl.exclude("query_row")).alias("found"))
        )
        screened_now = rows.join(results, on="query_row", how="left").drop("query_row")
        if kept is not None:
            screened_now = pl.concat([kept, screened_now], how="vertical_relaxed")
        _replace(kept_path, screened_now.write_parquet)
        kept = screened_now
    found = (
        kept.join(asked, on=QUERY, how="semi", nulls_equal=True)
        .filter(pl.col("found").list.len() > 0)
        .explode("found")
        .unnest("found")
    )
    return Screened(found, [path, kept_path, names_path(folder, list_id)], new.height, how)


def prune(folder: Path, keep: set[Path]) -> list[Path]:
    """Delete kept matchers other than `keep` (those of lists no longer screened); the deleted."""
    if not folder.is_dir():
        return []
    removed = [path for path in folder.iterdir() if path.is_file() and path not in keep]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
