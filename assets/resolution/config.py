"""The matcher's settings (`MatchConfig`), with their defaults read from `matching.yaml`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

MATCHING_FILE = Path(__file__).with_name("matching.yaml")
TOKEN_SCORERS = ("jaro_winkler", "ratio")
_UNIT_INTERVAL = (
    "token_weight",
    "subset_weight",
    "phonetic_similarity",
    "initial_weight",
    "token_min_ratio",
    "subset_min_weight",
    "acronym_score",
)


def _defaults() -> dict[str, Any]:
    data = yaml.safe_load(MATCHING_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{MATCHING_FILE}: expected a mapping of settings")
    return data


_D = _defaults()


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds, similarity parameters and rule weights (see `matching.yaml`)."""

    match_threshold: float = float(_D["match_threshold"])
    possible_threshold: float = float(_D["possible_threshold"])
    token_scorer: str = str(_D["token_scorer"])
    token_similarity_floor: float = float(_D["token_similarity_floor"])
    token_min_ratio: float = float(_D["token_min_ratio"])
    exact_token_length: int = int(_D["exact_token_length"])
    phonetic_similarity: float = float(_D["phonetic_similarity"])
    initial_weight: float = float(_D["initial_weight"])
    token_weight: float = float(_D["token_weight"])
    subset_weight: float = float(_D["subset_weight"])
    subset_min_weight: float = float(_D["subset_min_weight"])
    acronym_score: float = float(_D["acronym_score"])
    short_name_weight: float = float(_D["short_name_weight"])
    short_name_damping: float = float(_D["short_name_damping"])
    country_bonus: float = float(_D["country_bonus"])
    country_penalty: float = float(_D["country_penalty"])
    identifier_conflict_penalty: float = float(_D["identifier_conflict_penalty"])
    weak_alias_cap: float = float(_D["weak_alias_cap"])
    weak_alias_support: float = float(_D["weak_alias_support"])
    legal_form_conflict_penalty: float = float(_D["legal_form_conflict_penalty"])
    entity_type_conflict_penalty: float = float(_D["entity_type_conflict_penalty"])
    extra_token_penalty: float = float(_D["extra_token_penalty"])
    extra_token_min_weight: float = float(_D["extra_token_min_weight"])
    ambiguity_margin: float = float(_D["ambiguity_margin"])
    max_candidates: int = int(_D["max_candidates"])
    max_key_frequency: int = int(_D["max_key_frequency"])
    min_report_score: float = float(_D["min_report_score"])
    batch_size: int = int(_D["batch_size"])
    workers: int = int(_D["workers"])

    def __post_init__(self) -> None:
        if not 0 <= self.possible_threshold <= self.match_threshold <= 1:
            raise ValueError("need 0 <= possible_threshold <= match_threshold <= 1")
        for name in _UNIT_INTERVAL:
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in 0..1")
        if self.token_scorer not in TOKEN_SCORERS:
            raise ValueError(f"token_scorer must be one of {', '.join(TOKEN_SCORERS)}")
        if self.max_candidates < 1 or self.batch_size < 1:
            raise ValueError("max_candidates and batch_size must be positive")
        if self.workers < 0:
            raise ValueError("workers must be 0 or more")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> MatchConfig:
        """Build from a mapping (e.g. parsed YAML); unknown keys raise, missing keep defaults."""
        known = {f.name: f for f in fields(cls)}
        values = dict(mapping or {})
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown matcher settings: {', '.join(unknown)}")
        casts = {"int": int, "float": float, "str": str}
        typed = {key: casts[str(known[key].type)](value) for key, value in values.items()}
        return cls(**typed)

    def decide(self, score: float) -> str:
        if score >= self.match_threshold:
            return "match"
        return "possible" if score >= self.possible_threshold else "no_match"


_OUT_OF_STEP = sorted({f.name for f in fields(MatchConfig)} ^ set(_D))
if _OUT_OF_STEP:  # a setting in the file the class does not know, or the reverse
    raise ValueError(f"{MATCHING_FILE}: settings out of step with MatchConfig: {_OUT_OF_STEP}")
