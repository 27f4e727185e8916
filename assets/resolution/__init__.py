"""Screening and entity resolution: name normalization, matching against a sanctions list,
evaluation on real list data. Pure Python and polars; no Dagster."""

from assets.resolution.matcher import Candidate, MatchConfig, Matcher, Query
from assets.resolution.names import NameForms, latin_forms, normalize

__all__ = [
    "Candidate",
    "MatchConfig",
    "Matcher",
    "NameForms",
    "Query",
    "latin_forms",
    "normalize",
]
