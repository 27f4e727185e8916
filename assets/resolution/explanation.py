"""Explanations: the sentence and the features JSON of each decided candidate.

The name evidence (which tokens matched which) is worked out here; every other sentence comes
from the rule that fired (`rules.py`), so a rule is written once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import polars as pl

from assets.resolution.config import MatchConfig
from assets.resolution.rules import ALL_RULES
from assets.resolution.scoring import TokenTable

KIND_LABEL = {"primary": "primary name", "alias": "alias", "weak_alias": "weak alias"}
_HEAD = {"match": "Name match", "possible": "Possible match", "no_match": "No match"}
_RULE_COLUMNS = tuple((rule, f"r_{rule.name}") for rule in ALL_RULES)
# json.dumps(..., sort_keys=True, ensure_ascii=False) without building an encoder per row
_FEATURES_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode


def matched_tokens(
    table: TokenTable, qtokens: pl.DataFrame, ctokens: pl.DataFrame, rows: pl.DataFrame
) -> dict[tuple[int, int], tuple[str, str]]:
    """For each reported (qvid, vid): matched and unmatched query tokens, as text."""
    tp = (
        rows.filter(pl.col("qvid").is_not_null())
        .select("qvid", "vid")
        .unique()
        .join(qtokens, on="qvid")
        .join(ctokens, on="vid")
    )
    if not tp.height:
        return {}
    left, right = table.ids(tp["qtok"].to_list()), table.ids(tp["ctok"].to_list())
    tp = tp.with_columns(pl.Series("sim", table.similarity(left, right), dtype=pl.Float64))
    per_token = (
        tp.sort("sim", descending=True)
        .group_by("qvid", "vid", "qpos", maintain_order=True)
        .first()
        .sort("qpos")
        .with_columns(
            pl.when(pl.col("sim") >= 1)
            .then(pl.col("qtok"))
            .when(pl.col("sim") > 0)
            .then(pl.format("{}~{}", "qtok", "ctok"))
            .alias("m")
        )
        .group_by("qvid", "vid")
        .agg(
            pl.col("m").drop_nulls().str.join(", ").alias("matched"),
            pl.col("qtok").filter(pl.col("sim") == 0).str.join(", ").alias("unmatched"),
        )
    )
    return {(a, b): (m, u) for a, b, m, u in per_token.iter_rows()}


def explain_all(
    rows: pl.DataFrame, tokens: Mapping[tuple[int, int], tuple[str, str]], cfg: MatchConfig
) -> tuple[list[str], list[str]]:
    """(explanation sentences, features JSON) of every decided row."""
    explained = [explain(row, tokens, cfg) for row in rows.iter_rows(named=True)]
    return [text for text, _ in explained], [features for _, features in explained]


def explain(
    row: Mapping[str, Any],
    tokens: Mapping[tuple[int, int], tuple[str, str]],
    cfg: MatchConfig,
) -> tuple[str, str]:
    """(explanation sentence, features JSON) of one decided row."""
    features: dict[str, Any] = {}
    reasons: list[str] = []
    against: list[str] = []
    if row["id_match"]:
        reasons.append(
            f"query {row['id_match']} passes its check and equals the list's"
            f" {row['id_match'].split(' ')[0]} of entry {row['entry_id']}"
        )
        features["identifier_match"] = row["id_match"]
    row = dict(row)
    if row["qvid"] is not None:
        matched, unmatched = tokens.get((row["qvid"], row["vid"]), ("", ""))
        row["unmatched"] = unmatched
        text = (
            f"name similarity {row['name_score']:.2f} with the"
            f" {KIND_LABEL[row['kind']]} '{row['name']}' (rarity-weighted token overlap"
            f" {row['token_score']:.2f}, string similarity {row['string_score']:.2f};"
            f" matched tokens: {matched or 'none'}"
        )
        if unmatched:
            text += f"; unmatched query tokens: {unmatched}"
        if (row["qlegal"] or row["clegal"]) and not row["r_legal_form_conflict"]:
            text += f"; legal forms {row['qlegal'] or '-'}/{row['clegal'] or '-'} compatible"
        reasons.append(text + ")")
        features.update(
            name_score=round(row["name_score"], 4),
            token_score=round(row["token_score"], 4),
            string_score=round(row["string_score"], 4),
            exact_core=bool(row["exact"]),
            matched_tokens=matched,
            unmatched_tokens=unmatched,
        )
    elif row["id_match"]:
        reasons.append("the names share no blocking key")
    fired = [rule for rule, column in _RULE_COLUMNS if row.get(column)]
    for rule in fired:
        (against if rule.against else reasons).append(rule.explain(row, cfg))
    if fired:
        features["rules"] = [rule.name for rule in fired]
    if row.get("r_weak_alias_only"):
        features["weak_alias_only"] = True
    if row.get("r_country_same"):
        features["country"] = "same"
    elif row.get("r_country_different"):
        features["country"] = "different"
    if row["id_conflict"]:
        features["identifier_conflict"] = row["id_conflict"]
    if row["invalid_ids"]:
        features["invalid_identifiers"] = row["invalid_ids"]
    head = "Identifier match" if row["id_match"] else _HEAD[row["decision"]]
    text = f"{head} (score {row['score']:.2f}): " + "; ".join(reasons or ["no name evidence"])
    if against:
        text += ". Against: " + "; ".join(against)
    return text + ".", _FEATURES_JSON(features)
