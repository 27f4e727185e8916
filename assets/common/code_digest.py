"""A digest of the code and libraries a kept result depends on: kept results (matchers,
staged parses) are used again only while it is unchanged."""

import hashlib
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1]


def code_digest(files: Iterable[Path], libraries: Iterable[str]) -> str:
    """sha256 of each file (its path under `assets/` and its bytes; a missing one is skipped),
    the interpreter's version and each library's installed version."""
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(ASSETS).as_posix().encode())
            digest.update(path.read_bytes())
    versions = [sys.version, *(f"{lib} {metadata.version(lib)}" for lib in libraries)]
    digest.update("|".join(versions).encode())
    return digest.hexdigest()
