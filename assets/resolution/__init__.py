"""Screening and entity resolution: name normalization, matching against a sanctions list,
evaluation on real list data. Pure Python and polars; no Dagster.

The names below are imported on first use, so that a worker process importing one module of
the package (`queries`) does not import the matcher, and through it the sanctions package.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assets.resolution.matcher import Candidate, MatchConfig, Matcher, Query
    from assets.resolution.names import NameForms, latin_forms, normalize

_MODULES = {
    "Candidate": "matcher",
    "MatchConfig": "matcher",
    "Matcher": "matcher",
    "Query": "matcher",
    "NameForms": "names",
    "latin_forms": "names",
    "normalize": "names",
}

__all__ = [
    "Candidate",
    "MatchConfig",
    "Matcher",
    "NameForms",
    "Query",
    "latin_forms",
    "normalize",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"assets.resolution.{module}"), name)
