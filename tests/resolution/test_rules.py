"""The vocabulary, the name forms and the evidence-against rules, on fictional list entries."""

from __future__ import annotations

import polars as pl
import pytest

from assets.resolution.config import MatchConfig
from assets.resolution.matcher import Matcher, Query
from assets.resolution.names import acronym, name_parts, normalize
from assets.resolution.rules import ALL_RULES
from assets.resolution.vocabulary import CONNECTORS, default_vocabulary
from assets.sanctions.model import ENTRY_SCHEMA, conform


def listed(entries: list[tuple[str, str, str]], config: MatchConfig | None = None) -> Matcher:
    """A Matcher over fictional entries (entry_id, name, entity_type)."""
    frame = conform(
        pl.DataFrame(
            [{"entry_id": e, "name": n, "countries": [], "entity_type": t} for e, n, t in entries]
        ),
        ENTRY_SCHEMA,
    )
    return Matcher(frame, config=config, list_id="test")


def best(matcher: Matcher, query: Query) -> tuple[str, str, list[str]]:
    found = matcher.match(query)
    assert found, f"no candidate for {query.name}"
    return found[0].entry_id, found[0].decision, found[0].features.get("rules", [])


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("NPP Almaz", "Nauchno-Proizvodstvennoe Predpriyatie Almaz"),
        ("НПП «Алмаз»", "Research and Production Enterprise Almaz"),
        ("KB Tochnogo Mashinostroeniya", "Design Bureau of Precision Machine Building"),
        ("Russian Space Systems", "ROSSIYSKIYE KOSMICHESKIYE SISTEMY"),
        ("Trading House Volna", "TD Volna"),
        ("Torgovyi Dom Volna", "Trading House Volna"),
        ("Zavod Molot", "Molot Plant"),
    ],
)
def test_translated_and_abbreviated_terms_meet(a: str, b: str) -> None:
    def words(name: str) -> set[frozenset[str]]:  # the matcher ignores word order
        return {frozenset(v) - CONNECTORS for v in normalize(name).variants}

    assert words(a) & words(b), (words(a), words(b))


def test_legal_forms_get_groups_from_rigour_and_the_vocabulary() -> None:
    assert normalize("OOO Volna").legal_group == "llc"
    assert normalize("OAO Volna").legal_group == "jsc"
    assert normalize("Federal State Unitary Enterprise Volna").legal_group == "unitary"
    assert normalize("ФГУП «Волна»").legal_group == "unitary"
    # rigour reads KB as a Swedish partnership; here it is a design bureau
    assert normalize("KB Rubin").legal_form is None and "kb" in normalize("KB Rubin").org_types


def test_vocabulary_terms_are_well_formed() -> None:
    vocabulary = default_vocabulary()
    kinds = {term.kind for term in vocabulary.terms.values()}
    assert kinds == {"org_type", "legal_form", "word"}
    for term in vocabulary.terms.values():
        assert (term.group is not None) == (term.kind == "legal_form"), term


def test_short_forms_and_aka_become_names_of_their_own() -> None:
    parts = name_parts('OAO "VO Technopromexport" (OAO "VO TPE")')
    assert parts[0] == 'OAO "VO Technopromexport" (OAO "VO TPE")'
    assert any(normalize(p).core == ("vo", "tpe") for p in parts)
    assert any(normalize(p).core == ("vo", "technopromexport") for p in parts)
    parts = name_parts("Banco Nacional de Cuba a.k.a. National Bank of Cuba")
    assert "National Bank of Cuba" in parts and "Banco Nacional de Cuba" in parts
    # a country in parentheses is not a name
    assert name_parts("SBERBANK (RUSSIA)") == ["SBERBANK (RUSSIA)", "SBERBANK"]
    # nor is a company designator ("PVT" alone matched list aliases "PVT" at score 1.0)
    assert name_parts("BLUEWOOD TEXTILE (PVT.) LTD.") == [
        "BLUEWOOD TEXTILE (PVT.) LTD.",
        "BLUEWOOD TEXTILE LTD.",
    ]


def test_acronyms_are_built_from_russian_and_canonical_words() -> None:
    assert "rks" in normalize("Rossiyskiye Kosmicheskiye Sistemy").acronyms
    assert acronym(("npp", "almaz", "istok"), ("npp",)) == "nppai"
    assert acronym(("almaz",)) is None


def test_a_short_form_in_parentheses_finds_the_entry() -> None:
    matcher = listed([("1", 'OAO "VO TECHNOPROMEXPORT" (OAO "VO TPE")', "entity")])
    assert best(matcher, Query("VO TPE OAO"))[0] == "1"


def test_an_acronym_is_a_possible_match_never_alone_a_match() -> None:
    matcher = listed(
        [("1", "AO Rossiyskiye Kosmicheskiye Sistemy", "entity"), ("2", "Volga Trading", "entity")]
    )
    entry, decision, rules = best(matcher, Query("RKS"))
    assert (entry, decision) == ("1", "possible") and "acronym" in rules


def test_conflicting_legal_forms_are_at_most_possible() -> None:
    matcher = listed([("1", "OOO STROYTRANSGAZ", "entity")])
    assert best(matcher, Query("STROYTRANSGAZ OOO"))[1] == "match"
    _entry, decision, rules = best(matcher, Query("OAO STROYTRANSGAZ"))
    assert decision == "possible" and "legal_form_conflict" in rules
    # a form compatible with every other (Ltd) is no conflict
    assert best(matcher, Query("STROYTRANSGAZ LIMITED"))[1] == "match"


def test_an_organisation_does_not_match_a_person() -> None:
    matcher = listed([("1", "IVAN PETROV", "individual")])
    assert best(matcher, Query("IVAN PETROV"))[1] == "match"
    _entry, decision, rules = best(matcher, Query("OOO IVAN PETROV"))
    assert decision == "possible" and "entity_type_conflict" in rules
    _, decision, rules = best(matcher, Query("IVAN PETROV", entity_type="organisation"))
    assert decision == "possible" and "entity_type_conflict" in rules
    vessel = listed([("1", "ADMIRAL KUZNETSOV", "vessel")])
    _, decision, rules = best(vessel, Query("ADMIRAL KUZNETSOV PAO"))
    assert decision == "possible" and "entity_type_conflict" in rules


def test_two_entries_fitting_equally_are_ambiguous() -> None:
    matcher = listed([("1", "KORVET SHIPPING LLC", "entity"), ("2", "KORVET SHIPPING", "entity")])
    found = matcher.match(Query("KORVET SHIPPING"))
    assert {c.entry_id for c in found[:2]} == {"1", "2"}
    assert all(c.decision == "possible" for c in found[:2])
    assert any("ambiguous" in c.features.get("rules", []) for c in found[:2])
    # with one entry, the same name is a match
    alone = listed([("1", "KORVET SHIPPING", "entity")])
    assert best(alone, Query("KORVET SHIPPING"))[1] == "match"


def test_a_subsidiary_s_extra_words_count_against_the_parent() -> None:
    config = MatchConfig()
    matcher = listed(
        [("1", "TACTICAL MISSILES CORPORATION JSC", "entity"), ("2", "PLANT KULAKOV", "entity")]
    )
    found = matcher.match(Query("TACTICAL MISSILE COMPANY, JSC PLANT KULAKOV"))
    parent = next(c for c in found if c.entry_id == "1")
    assert "extra_tokens" in parent.features.get("rules", [])
    plain = listed([("1", "TACTICAL MISSILES CORPORATION JSC", "entity")], config)
    same = plain.match(Query("TACTICAL MISSILES CORPORATION"))[0]
    assert parent.score < same.score


def test_every_rule_explains_itself_and_has_its_weight_in_matching_yaml() -> None:
    import yaml

    from assets.resolution.config import MATCHING_FILE

    settings = yaml.safe_load(MATCHING_FILE.read_text())
    assert settings.keys() == MatchConfig().__dataclass_fields__.keys()
    names = [rule.name for rule in ALL_RULES]
    assert len(names) == len(set(names))
    text = MATCHING_FILE.read_text()
    for rule in ALL_RULES:
        assert rule.name in text, f"rule {rule.name} is not described in matching.yaml"


def test_a_yaml_override_changes_a_rule_weight() -> None:
    entries = [("1", "OOO STROYTRANSGAZ", "entity")]
    soft = listed(entries, MatchConfig.from_mapping({"legal_form_conflict_penalty": 0.0}))
    hard = listed(entries, MatchConfig.from_mapping({"legal_form_conflict_penalty": 0.3}))
    query = Query("OAO STROYTRANSGAZ")
    assert soft.match(query)[0].score - hard.match(query)[0].score == pytest.approx(0.3)


def test_one_name_is_one_match_the_runner_up_is_possible() -> None:
    matcher = listed(
        [
            ("1", "KORVET MARINE SHIPPING", "entity"),
            ("2", "KORVET MARINE SHIPPING SERVICES", "entity"),
        ]
    )
    found = {c.entry_id: c for c in matcher.match(Query("KORVET MARINE SHIPPING"))}
    assert found["1"].decision == "match"
    assert found["2"].score >= MatchConfig().match_threshold  # a match by score alone
    assert found["2"].decision == "possible" and "runner_up" in found["2"].features["rules"]
    assert "entry 1 fits better" in found["2"].explanation


def test_an_identifier_match_elsewhere_makes_a_name_match_a_runner_up() -> None:
    entries = conform(
        pl.DataFrame(
            [
                {
                    "entry_id": "1",
                    "name": "VOLNA TRADING LLC",
                    "countries": [],
                    "entity_type": "entity",
                },
                {
                    "entry_id": "2",
                    "name": "VOLNA TRADING",
                    "countries": [],
                    "entity_type": "entity",
                },
            ]
        ),
        ENTRY_SCHEMA,
    )
    identifiers = pl.DataFrame(
        [
            {
                "entry_id": "1",
                "scheme": "RU_INN",
                "value": "5047120398",
                "country": "RU",
                "is_valid": True,
            }
        ]
    )
    matcher = Matcher(entries, identifiers=identifiers, list_id="test")
    found = {c.entry_id: c for c in matcher.match(Query("VOLNA TRADING", inn="5047120398"))}
    assert found["1"].decision == "match" and found["1"].score == 1.0
    assert found["2"].decision == "possible" and "runner_up" in found["2"].features["rules"]
