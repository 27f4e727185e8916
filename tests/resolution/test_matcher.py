"""Matcher rules and the known failure modes of screening, on the real SDN snapshot in
reference/ and on small fictional lists."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from assets.resolution.matcher import Candidate, MatchConfig, Matcher, Query, parse_identifiers
from assets.resolution.names import normalize
from assets.sanctions import ofac_sdn
from assets.sanctions.model import ALIAS_SCHEMA, ENTRY_SCHEMA, IDENTIFIER_SCHEMA, conform

SNAPSHOT = (
    Path(__file__).resolve().parents[2]
    / "reference"
    / "sanctions"
    / "ofac_sdn"
    / "sdn_2024-02-23.csv"
)
INVEST_STANKO = "47497"  # LIMITED LIABILITY COMPANY INVEST STANKO, Tax ID 5047120398 (valid)


@pytest.fixture(scope="module")
def sdn() -> Matcher:
    parsed = ofac_sdn.parse(SNAPSHOT.read_bytes())
    return Matcher(parsed.entries, parsed.aliases, parsed.identifiers, list_id="ofac_sdn")


def fictional(
    entries: list[tuple[str, str, list[str]]],
    aliases: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    identifiers: list[tuple[str, str, str, bool]] = (),  # type: ignore[assignment]
    config: MatchConfig | None = None,
) -> Matcher:
    """A Matcher over fictional entries (entry_id, name, countries)."""
    frame = conform(
        pl.DataFrame(
            [
                {"entry_id": e, "name": n, "countries": c, "entity_type": "entity"}
                for e, n, c in entries
            ]
        ),
        ENTRY_SCHEMA,
    )
    alias_frame = conform(
        pl.DataFrame(
            [{"entry_id": e, "alias": a, "quality": q, "alias_type": "aka"} for e, a, q in aliases],
            schema={
                "entry_id": pl.String,
                "alias": pl.String,
                "quality": pl.String,
                "alias_type": pl.String,
            },
        ),
        ALIAS_SCHEMA,
    )
    id_frame = conform(
        pl.DataFrame(
            [
                {"entry_id": e, "scheme": s, "value": v, "is_valid": ok}
                for e, s, v, ok in identifiers
            ],
            schema={
                "entry_id": pl.String,
                "scheme": pl.String,
                "value": pl.String,
                "is_valid": pl.Boolean,
            },
        ),
        IDENTIFIER_SCHEMA,
    )
    return Matcher(frame, alias_frame, id_frame, config, list_id="test")


def find(candidates: list[Candidate], entry_id: str) -> Candidate | None:
    return next((c for c in candidates if c.entry_id == entry_id), None)


# ------------------------------------------------------------------ known failure modes
def test_belletech_corp_does_not_match_11420_corp(sdn: Matcher) -> None:
    candidates = sdn.match(Query("BELLETECH CORP"), min_score=0.0)
    assert all(c.decision == "no_match" for c in candidates)
    pair = sdn.score_pairs(pl.DataFrame({"name": ["BELLETECH CORP"], "entry_id": ["24430"]}))
    assert pair["decision"][0] == "no_match"
    assert pair["score"][0] < 0.5


def test_decoy_with_a_different_valid_inn_never_matches(sdn: Matcher) -> None:
    query = Query("INVEST-STANKO LLC", inn="6658312401")
    assert parse_identifiers(inn="6658312401")[0].is_valid
    candidate = find(sdn.match(query, min_score=0.0), INVEST_STANKO)
    assert candidate is not None
    assert candidate.decision == "no_match"
    assert candidate.features["identifier_conflict"] == "RU_INN 6658312401 vs 5047120398"
    assert "6658312401" in candidate.explanation and "5047120398" in candidate.explanation


def test_cyrillic_name_with_the_listed_inn_is_an_identifier_match(sdn: Matcher) -> None:
    candidates = sdn.match(Query('ООО "ИНВЕСТ СТАНКО"', inn="5047120398"))
    best = candidates[0]
    assert best.entry_id == INVEST_STANKO
    assert best.decision == "match"
    assert best.score == 1.0
    assert best.features["identifier_match"] == "RU_INN 5047120398"
    assert best.explanation.startswith("Identifier match")


def test_name_without_inn_is_a_name_match_with_an_explanation(sdn: Matcher) -> None:
    best = sdn.match(Query("OOO INVEST STANKO"))[0]
    assert best.entry_id == INVEST_STANKO
    assert best.decision in ("match", "possible")
    assert "identifier_match" not in best.features
    assert "LIMITED LIABILITY COMPANY INVEST STANKO" in best.explanation
    assert "matched tokens: invest, stanko" in best.explanation


def test_invalid_inn_is_flagged_and_never_joined(sdn: Matcher) -> None:
    # 5047120399 fails the check digit: it must not join entry 47497 by identifier.
    unrelated = sdn.match(Query("ZQXW PLUMBING", inn="5047120399"), min_score=0.0)
    assert find(unrelated, INVEST_STANKO) is None
    best = sdn.match(Query("OOO INVEST STANKO", inn="5047120399"))[0]
    assert best.entry_id == INVEST_STANKO
    assert "identifier_match" not in best.features
    assert best.features["invalid_identifiers"] == "RU_INN 5047120399"
    assert "fails its check" in best.explanation


def test_identifier_match_outranks_a_perfect_name_match(sdn: Matcher) -> None:
    candidates = sdn.match(Query("ROSOBORONEKSPORT OAO", inn="5047120398"))
    assert candidates[0].entry_id == INVEST_STANKO
    assert candidates[0].decision == "match"
    assert find(candidates, "18782") is not None


def test_weak_alias_alone_never_matches(sdn: Matcher) -> None:
    # 'BNC' is a weak a.k.a. of BANCO NACIONAL DE CUBA (ent_num 306) in the remarks.
    candidate = find(sdn.match(Query("BNC", country="CU"), min_score=0.0), "306")
    assert candidate is not None
    assert candidate.matched_name_kind == "weak_alias"
    assert candidate.decision == "no_match"
    assert "weak alias" in candidate.explanation


def test_weak_alias_only_supports_another_name() -> None:
    matcher = fictional(
        [("1", "KOLOMNA STANKOMASH PLANT", []), ("2", "ORLOV MACHINE WORKS", [])],
        aliases=[("1", "KSP", "weak"), ("2", "ORLMASH", "weak"), ("2", "ORLOV MASH", "weak")],
    )
    alone = matcher.match(Query("ORLMASH"), min_score=0.0)[0]
    assert alone.entry_id == "2" and alone.decision == "no_match"
    assert alone.score <= matcher.config.weak_alias_cap
    both = matcher.match(Query("ORLOV MACHINE WORKS"))[0]
    assert both.matched_name_kind == "primary" and both.decision == "match"


def test_short_generic_name_does_not_outrank_a_distinctive_one() -> None:
    words = ["ALPHA", "DELTA", "OMEGA", "NOVA", "STAR", "PRIME", "UNITED", "EURO", "ASIA", "NORD"]
    generic: list[tuple[str, str, list[str]]] = [
        (str(i), f"{word} TRADING LLC", []) for i, word in enumerate(words)
    ]
    generic += [(str(20 + i), f"GLOBAL {word} GROUP", []) for i, word in enumerate(
        ["ENERGY", "METALS", "SHIPPING", "PETROLEUM", "FINANCE", "SUPPLY"]
    )]  # fmt: skip
    matcher = fictional(
        [*generic, ("g", "GLOBAL TRADING LLC", []), ("d", "STANKOMASHSTROY LLC", [])]
    )
    candidates = matcher.match(Query("GLOBAL STANKOMASHSTROY TRADING LLC"), min_score=0.0)
    assert candidates[0].entry_id == "d"
    generic_score = find(candidates, "g")
    assert generic_score is None or generic_score.score < candidates[0].score


def test_tokens_are_weighted_by_rarity_in_the_list(sdn: Matcher) -> None:
    # "trading" is the vocabulary's `torgovyi` (a word term) once normalized
    trading = normalize("trading").variants[0][0]
    assert sdn.token_weight("stanko") > sdn.token_weight(trading)
    assert sdn.token_weight("never-seen-token") >= sdn.token_weight("stanko")


# ------------------------------------------------------------------------ other rules
def test_countries_support_or_oppose_a_name_match() -> None:
    matcher = fictional([("1", "VOLGA PRECISION INSTRUMENTS", ["RU"])])
    plain = matcher.match(Query("VOLGA PRECISON INSTRUMENTS"))[0]
    same = matcher.match(Query("VOLGA PRECISON INSTRUMENTS", country="Russia"))[0]
    other = matcher.match(Query("VOLGA PRECISON INSTRUMENTS", country="TR"))[0]
    assert same.score > plain.score > other.score
    assert same.features["country"] == "same" and other.features["country"] == "different"
    assert "country TR is not among the entry's RU" in other.explanation


def test_cross_script_and_romanization_variants_match(sdn: Matcher) -> None:
    for name in (
        "Общество с ограниченной ответственностью «Инвест Станко»",
        "Obshchestvo s ogranichennoy otvetstvennostyu Invest Stanko",
        "INVESTSTANKO LLC",
    ):
        best = sdn.match(Query(name))[0]
        assert (best.entry_id, best.decision) == (INVEST_STANKO, "match"), name


def test_screen_is_vectorised_and_keeps_query_rows(sdn: Matcher) -> None:
    queries = pl.DataFrame(
        {
            "name": ["OOO INVEST STANKO", "ZQXW PLUMBING", "INVEST-STANKO LLC"],
            "inn": [None, None, "6658312401"],
        }
    )
    result = sdn.screen(queries, top=2)
    assert set(result.columns) >= {"query_row", "entry_id", "score", "decision", "explanation"}
    first = result.filter(pl.col("query_row") == 0).row(0, named=True)
    assert (first["entry_id"], first["decision"]) == (INVEST_STANKO, "match")
    assert result.filter(pl.col("query_row") == 2)["decision"].to_list().count("match") == 0
    assert result.group_by("query_row").len()["len"].max() <= 2  # type: ignore[operator]


def test_screen_with_a_worker_process_gives_the_rows_of_a_serial_run() -> None:
    """Batches laid out and explained by the spawned worker: the same rows, in order."""
    entries = [
        ("1", "OOO ROMASHKA TRADING", ["RU"]),
        ("2", "ООО «ТЕХНОСНАБ»", ["RU"]),
        ("3", "NORTHWIND PRECISION TOOLS GMBH", ["DE"]),
        ("4", "AKTSIONERNOE OBSHCHESTVO VOLGA LOGISTIKA", ["RU"]),
    ]
    stems = ["ROMASHKA", "ROMASKA", "TEKHNOSNAB", "ТЕХНОСНАБ", "NORTHWIND", "VOLGA", "ZQXW"]
    forms = ["LLC", "OOO", "GMBH", "JSC", "TRADING", "LOGISTIKA", "(RT)"]
    queries = pl.DataFrame({"name": [f"{s} {f}" for s in stems for f in forms]})
    serial = fictional(entries, config=MatchConfig(batch_size=8, workers=0)).screen(queries)
    helped = fictional(entries, config=MatchConfig(batch_size=8, workers=1)).screen(queries)
    assert serial.height > 10 and serial["query_row"].n_unique() > 20
    assert helped.equals(serial)


def test_config_from_mapping() -> None:
    config = MatchConfig.from_mapping({"match_threshold": "0.9", "max_candidates": 5})
    assert config.match_threshold == 0.9 and config.max_candidates == 5
    assert config.decide(0.95) == "match" and config.decide(0.75) == "possible"
    assert config.decide(0.1) == "no_match"
    with pytest.raises(ValueError, match="unknown matcher settings"):
        MatchConfig.from_mapping({"match_treshold": 0.9})
    with pytest.raises(ValueError):
        MatchConfig(match_threshold=0.5, possible_threshold=0.6)


def test_parse_identifiers_guesses_the_scheme() -> None:
    found = parse_identifiers(identifier="1105047013752")
    assert (found[0].scheme, found[0].is_valid) == ("RU_OGRN", True)
    assert parse_identifiers(identifier="AB-123")[0].scheme == "OTHER"
    assert parse_identifiers(inn=" ") == []
