"""Built matchers kept between runs, one file per list version, matcher code and configuration.

Building a `Matcher` for the full SDN (normalizing and indexing 30,000 names) takes about 4 s,
and a monthly customs run screens against lists that did not change. The built matcher is
pickled beside the build database; a run whose list version, configuration and matcher code
are those of a kept file loads it (about 0.5 s) instead. The key is a sha256 over the list's
three frames (as JSON lines), the configuration, every file of `assets/resolution/` and the
library versions, so any change to what the matcher is built from builds it again.

A pickle runs code when loaded: the folder must be as trusted as the code itself (it is the
pipeline's own, inside the warehouse folder, written atomically).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from functools import cache
from pathlib import Path

import polars as pl
import rapidfuzz

from assets.resolution.config import MatchConfig
from assets.resolution.matcher import Matcher

_PACKAGE = Path(__file__).resolve().parent


@cache
def _code_digest() -> str:
    """sha256 of the matcher's code and data files, and of the libraries it runs on."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(_PACKAGE).as_posix().encode())
            digest.update(path.read_bytes())
    versions = f"{sys.version}|polars {pl.__version__}|rapidfuzz {rapidfuzz.__version__}"
    digest.update(versions.encode())
    return digest.hexdigest()


def cache_key(list_id: str, parts: dict[str, pl.DataFrame], config: MatchConfig) -> str:
    """The key of a matcher built from these frames with this configuration and code."""
    digest = hashlib.sha256(_code_digest().encode())
    digest.update(list_id.encode())
    digest.update(repr(config).encode())
    for name in sorted(parts):
        digest.update(name.encode())
        # as text, row by row: the same content in another memory layout hashes the same
        digest.update(parts[name].write_ndjson().encode())
    return digest.hexdigest()


def load_or_build(
    folder: Path, list_id: str, parts: dict[str, pl.DataFrame], config: MatchConfig
) -> tuple[Matcher, Path, bool]:
    """The matcher for these parts (loaded when kept, else built and kept); its file; loaded?"""
    path = folder / f"{list_id}-{cache_key(list_id, parts, config)[:32]}.pickle"
    if path.is_file():
        with path.open("rb") as handle:
            return pickle.load(handle), path, True
    matcher = Matcher(
        parts["entries"], parts["aliases"], parts["identifiers"], config, list_id=list_id
    )
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as handle:
        pickle.dump(matcher, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)
    return matcher, path, False


def prune(folder: Path, keep: set[Path]) -> list[Path]:
    """Delete kept matchers other than `keep` (those of lists no longer screened); the deleted."""
    if not folder.is_dir():
        return []
    removed = [path for path in folder.iterdir() if path.is_file() and path not in keep]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
