"""The matcher's rules: each one named unit with its expression, weight and explanation.

A `Rule` says when it fires (a polars expression over the candidate frame), what it adds to
the name score (its weight comes from `matching.yaml` through `MatchConfig`), the best
decision it allows (`cap`) and the sentence that explains it. `decide` applies them all,
vectorised, in three passes: adjustments and caps; then `ambiguous` and `runner_up`, which
compare a query's candidates with each other (their `fires` is worked out there, so only one
name per query can be a name `match`); then identifier matches, which settle everything.

Columns the rules read (one row per query x entry): `name_score` (best name), `exact`,
`kind` (primary / alias / weak_alias), `from_weak`, `weak_support`, `qweight` / `cweight`
(distinctiveness of each name), `qcountry` / `countries`, `id_match`, `id_conflict`,
`invalid_ids`, `qgroup` / `cgroup` (legal-form groups), `qtype` (organisation / person /
null) / `etype` (the entry's type), `q_unmatched` / `c_unmatched` (rarity weight each side
left unmatched), `unseen` (the weight of a token the list has never seen), `acronym`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from assets.resolution.config import MatchConfig

Expr = Callable[[MatchConfig], pl.Expr]
Explain = Callable[[Mapping[str, Any], MatchConfig], str]
_NONE = pl.lit(0.0)


@dataclass(frozen=True)
class Rule:
    """One piece of evidence for or against a candidate."""

    name: str
    against: bool
    fires: Expr
    adjust: Expr  # added to the score when the rule fires
    explain: Explain
    cap: str | None = None  # best decision allowed when the rule fires (None: no limit)


# Entry types that are not organisations (the list model's entity_type), and how they read.
_NOT_ORGANISATIONS = ["individual", "vessel", "aircraft"]
_ENTRY_KIND = {"individual": "a person", "vessel": "a vessel", "aircraft": "an aircraft"}


def _organisation_entry() -> pl.Expr:
    return pl.col("etype").is_null() | (pl.col("etype") != "individual")


RULES: tuple[Rule, ...] = (
    Rule(
        "short_name",
        against=True,
        fires=lambda c: (
            ((pl.col("qweight") < c.short_name_weight) | (pl.col("cweight") < c.short_name_weight))
            & ~pl.col("exact")
            & ~pl.col("acronym").fill_null(False)
            & pl.col("name_score").is_not_null()
        ),
        adjust=lambda c: -pl.col("name_score") * c.short_name_damping,
        explain=lambda r, c: (
            f"a short or generic name that is not equal (-{c.short_name_damping:.0%})"
        ),
    ),
    Rule(
        "weak_alias_only",
        against=True,
        fires=lambda c: pl.col("from_weak"),
        adjust=lambda c: (
            -(pl.col("name_score") - pl.col("name_score").clip(upper_bound=c.weak_alias_cap))
        ),
        explain=lambda r, c: (
            "only a weak alias matched, which never gives an alert on its own"
            f" (score capped at {c.weak_alias_cap:.2f})"
        ),
        cap="no_match",
    ),
    Rule(
        "weak_alias_support",
        against=False,
        fires=lambda c: pl.col("weak_support") & ~pl.col("from_weak"),
        adjust=lambda c: pl.lit(c.weak_alias_support),
        explain=lambda r, c: f"a weak alias also matches (+{c.weak_alias_support:.2f})",
    ),
    Rule(
        "acronym",
        against=False,
        fires=lambda c: pl.col("acronym").fill_null(False),
        adjust=lambda c: _NONE,
        explain=lambda r, c: (
            "one name is the acronym of the other (at most "
            f"{c.acronym_score:.2f}, less when the acronym is common in the list)"
        ),
    ),
    Rule(
        "country_same",
        against=False,
        fires=lambda c: (
            pl.col("qcountry").is_not_null() & pl.col("countries").list.contains(pl.col("qcountry"))
        ),
        adjust=lambda c: pl.lit(c.country_bonus),
        explain=lambda r, c: (
            f"country {r['qcountry']} is one of the entry's (+{c.country_bonus:.2f})"
        ),
    ),
    Rule(
        "country_different",
        against=True,
        fires=lambda c: (
            pl.col("qcountry").is_not_null()
            & (pl.col("countries").list.len().fill_null(0) > 0)
            & ~pl.col("countries").list.contains(pl.col("qcountry"))
        ),
        adjust=lambda c: pl.lit(-c.country_penalty),
        explain=lambda r, c: (
            f"country {r['qcountry']} is not among the entry's"
            f" {', '.join(r['countries'] or [])} (-{c.country_penalty:.2f})"
        ),
    ),
    Rule(
        "legal_form_conflict",
        against=True,
        fires=lambda c: (
            pl.col("qgroup").is_not_null()
            & pl.col("cgroup").is_not_null()
            & (pl.col("qgroup") != pl.col("cgroup"))
        ),
        adjust=lambda c: pl.lit(-c.legal_form_conflict_penalty),
        explain=lambda r, c: (
            f"legal forms differ ({r['qlegal']} vs {r['clegal']}): often another company of"
            f" the same name (-{c.legal_form_conflict_penalty:.2f}, at most possible)"
        ),
        cap="possible",
    ),
    Rule(
        "entity_type_conflict",
        against=True,
        fires=lambda c: (
            ((pl.col("qtype") == "organisation") & pl.col("etype").is_in(_NOT_ORGANISATIONS))
            | ((pl.col("qtype") == "person") & (pl.col("etype") == "entity"))
        ),
        adjust=lambda c: pl.lit(-c.entity_type_conflict_penalty),
        explain=lambda r, c: (
            f"the query is {'an organisation' if r['qtype'] == 'organisation' else 'a person'}"
            f" and the entry {_ENTRY_KIND.get(r['etype'] or '', 'an organisation')}"
            f" (-{c.entity_type_conflict_penalty:.2f}, at most possible)"
        ),
        cap="possible",
    ),
    Rule(
        "extra_tokens",
        against=True,
        fires=lambda c: (
            _organisation_entry()
            & (pl.col("qtype").is_null() | (pl.col("qtype") != "person"))
            & ~pl.col("exact")
            & ~pl.col("acronym").fill_null(False)
            & (
                pl.max_horizontal("q_unmatched", "c_unmatched")
                >= c.extra_token_min_weight * pl.col("unseen")
            )
        ),
        adjust=lambda c: pl.lit(-c.extra_token_penalty),
        explain=lambda r, c: (
            "distinctive words of one name are missing from the other"
            f" ({_unmatched_text(r)}; a subsidiary or namesake? -{c.extra_token_penalty:.2f})"
        ),
    ),
    Rule(
        "identifier_conflict",
        against=True,
        fires=lambda c: pl.col("id_conflict").is_not_null(),
        adjust=lambda c: pl.lit(-c.identifier_conflict_penalty),
        explain=lambda r, c: (
            f"valid query identifier {r['id_conflict']} of the entry"
            f" (-{c.identifier_conflict_penalty:.2f}, never a match)"
        ),
        cap="possible",
    ),
    Rule(
        "invalid_identifier",
        against=True,
        fires=lambda c: pl.col("invalid_ids").is_not_null(),
        adjust=lambda c: _NONE,
        explain=lambda r, c: f"identifier {r['invalid_ids']} fails its check: kept, not used",
    ),
)
# Decided after the others: it compares the final scores of a query's candidates.
AMBIGUOUS = Rule(
    "ambiguous",
    against=True,
    fires=lambda c: pl.lit(False),
    adjust=lambda c: _NONE,
    explain=lambda r, c: (
        "another entry fits about as well (within"
        f" {c.ambiguity_margin:.2f}): at most possible without an identifier"
    ),
    cap="possible",
)
RUNNER_UP = Rule(
    "runner_up",
    against=True,
    fires=lambda c: pl.lit(False),
    adjust=lambda c: _NONE,
    explain=lambda r, c: (
        f"entry {r['other_entry']} fits better (score {r['other_score']:.2f}): one name is"
        " one match, the others are for review"
    ),
    cap="possible",
)
ALL_RULES: tuple[Rule, ...] = (*RULES, AMBIGUOUS, RUNNER_UP)


def _unmatched_text(row: Mapping[str, Any]) -> str:
    if row.get("unmatched"):
        return f"query words not in the entry's name: {row['unmatched']}"
    return "the entry's name has distinctive words the query lacks"


def _by_score(cfg: MatchConfig, score: pl.Expr) -> pl.Expr:
    return (
        pl.when(score >= cfg.match_threshold)
        .then(pl.lit("match"))
        .when(score >= cfg.possible_threshold)
        .then(pl.lit("possible"))
        .otherwise(pl.lit("no_match"))
    )


def _capped(decision: pl.Expr, fired: pl.Expr, cap: str) -> pl.Expr:
    if cap == "no_match":
        return pl.when(fired).then(pl.lit("no_match")).otherwise(decision)
    return pl.when(fired & (decision == "match")).then(pl.lit(cap)).otherwise(decision)


def decide(frame: pl.DataFrame, cfg: MatchConfig) -> pl.DataFrame:
    """Add `r_<rule>` flags, `score` and `decision` to a candidate frame (see module doc)."""
    flags = [rule.fires(cfg).fill_null(False).alias(f"r_{rule.name}") for rule in RULES]
    frame = frame.with_columns(flags)
    score = pl.col("name_score").fill_null(0.0)
    for rule in RULES:
        score = score + pl.when(pl.col(f"r_{rule.name}")).then(rule.adjust(cfg)).otherwise(0.0)
    frame = frame.with_columns(score.clip(0.0, 1.0).alias("score"))
    decision = _by_score(cfg, pl.col("score"))
    for rule in RULES:
        if rule.cap:
            decision = _capped(decision, pl.col(f"r_{rule.name}"), rule.cap)
    frame = frame.with_columns(decision.alias("decision"))
    # One name, one match: among a query's candidates at `match` (an identifier match counts as
    # the best), another entry within the margin makes both `ambiguous`; a clearly worse one is
    # a `runner_up`. Both are at most `possible`; identifier matches are never capped.
    identified = pl.col("id_match").is_not_null()
    matching = (pl.col("decision") == "match") | identified
    tops = (
        frame.filter(matching)
        .with_columns(pl.when(identified).then(1.0).otherwise(pl.col("score")).alias("_s"))
        .sort(["qid", "_s", "entry_id"], descending=[False, True, False])
        .group_by("qid", maintain_order=True)
        .agg(
            pl.col("entry_id").first().alias("_top_entry"),
            pl.col("id_match").first().is_not_null().alias("_top_identified"),
            pl.col("_s").first().alias("_top1"),
            pl.col("entry_id").slice(1, 1).first().alias("_second_entry"),
            pl.col("_s").slice(1, 1).first().alias("_top2"),
        )
    )
    is_top = pl.col("entry_id") == pl.col("_top_entry")
    frame = frame.join(tops, on="qid", how="left").with_columns(
        pl.when(is_top)
        .then(pl.col("_second_entry"))
        .otherwise(pl.col("_top_entry"))
        .alias("other_entry"),
        pl.when(is_top).then(pl.col("_top2")).otherwise(pl.col("_top1")).alias("other_score"),
    )
    contested = (pl.col("decision") == "match") & ~identified & pl.col("other_score").is_not_null()
    beaten = ~is_top & (
        pl.col("_top_identified") | (pl.col("other_score") > pl.col("score") + cfg.ambiguity_margin)
    )
    ambiguous = (
        contested & ~beaten & (pl.col("other_score") >= pl.col("score") - cfg.ambiguity_margin)
    )
    runner_up = contested & beaten
    frame = (
        frame.with_columns(
            ambiguous.fill_null(False).alias("r_ambiguous"),
            runner_up.fill_null(False).alias("r_runner_up"),
        )
        .drop("_top_entry", "_top_identified", "_top1", "_second_entry", "_top2")
        .with_columns(
            _capped(
                pl.col("decision"), pl.col("r_ambiguous") | pl.col("r_runner_up"), "possible"
            ).alias("decision")
        )
    )
    # identifier matches settle it
    return frame.with_columns(
        pl.when(identified).then(1.0).otherwise(pl.col("score")).alias("score"),
        pl.when(identified).then(pl.lit("match")).otherwise(pl.col("decision")).alias("decision"),
    )
