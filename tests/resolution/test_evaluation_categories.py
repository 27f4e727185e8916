"""Alias categories of the evaluation set: the classifier on hand-written pairs, and the
per-category sets and report on real data (needs ../shared/reference-data)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from assets.resolution import evaluation

SHARED = Path(__file__).resolve().parents[3] / "shared"


def _need_shared() -> None:
    for relative in (evaluation.OFAC_SDN, evaluation.OFAC_RECENT_SDN, evaluation.OFAC_RECENT_ALT):
        if not (SHARED / relative).exists():
            pytest.skip(f"../shared/{relative} not present: evaluation set unavailable")


def test_abbreviated_org_type_is_an_acronym_not_a_variant() -> None:
    alias, name = "NPP ALMAZ", "Nauchno-Proizvodstvennoe Predpriyatie Almaz"
    tokens = evaluation.simple_tokens
    assert not evaluation.is_variant(tokens(alias), tokens(name))
    assert evaluation.classify_alias(alias, name, "aka") == "acronym"
    assert evaluation.classify_alias("NII KVANT", "KVANT SCIENTIFIC RESEARCH INSTITUTE") == (
        "acronym"
    )


def test_initialisms_are_acronyms() -> None:
    classify = evaluation.classify_alias
    assert classify("RKS", "ROSSIYSKIYE KOSMICHESKIYE SISTEMY") == "acronym"
    # A digraph (Zh) spells one Cyrillic letter.
    assert classify("RZD", "Rossiiskie Zheleznye Dorogi") == "acronym"
    assert classify("CHAMS MLO", "CHAMS MONEY LAUNDERING ORG") == "acronym"
    assert evaluation.is_acronym(["rks"], ["rossiyskiye", "kosmicheskiye", "sistemy"])
    # Letters in the wrong order, or of one word only, are not an initialism.
    assert not evaluation.is_acronym(["arks"], ["rossiyskiye", "kosmicheskiye", "sistemy"])
    assert not evaluation.is_acronym(["sark"], ["rossiyskiye", "kosmicheskiye", "sistemy"])
    assert not evaluation._spells("ro", ["rossiyskiye"])


def test_former_names_come_from_the_alias_type() -> None:
    classify = evaluation.classify_alias
    assert classify("BANK MOSKVY PAO", "BM BANK JSC", "fka") == "former_name"
    assert classify("BANK MOSKVY PAO", "BM BANK JSC", "nka") == "former_name"
    assert classify("BANK MOSKVY PAO", "BM BANK JSC", "aka") != "former_name"
    # A former name differing only in its legal form is the same name.
    assert classify("OAO SG-DEVELOPMENT", "PAO SG-DEVELOPMENT", "fka") == "legal_form"
    assert (
        classify("AKTSIONERNOE OBSHCHESTVO SG-DEVELOPMENT", "PJSC SG-DEVELOPMENT", "fka")
        == "legal_form"
    )


def test_translations_transliterations_and_other_names() -> None:
    classify = evaluation.classify_alias
    assert classify("Адмиралтейские верфи", "Admiralty Shipyard") == "translation"
    assert (
        classify("TRUBNAYA METALLURGICHESKAYA KOMPANIYA PAO", "PIPE METALLURGICAL COMPANY PJSC")
        == "translation"
    )
    assert classify("Сергей АКСЁНОВ", "Sergey AKSYONOV") == "transliteration"
    assert classify("AO GAZSTROYPROM", "JOINT STOCK COMPANY GAZSTROYPROM") == "legal_form"
    assert classify("VOR V ZAKONYE", "THIEVES-IN-LAW") == "other_name"
    assert classify("CHALIY, Aleksei", "CHALIY, Aleksei Mikhailovich") == "variant"


def test_category_of_every_pair_is_known_and_split_is_by_entity() -> None:
    for entity in ("47497", "18273", "31651"):
        assert evaluation._split_of(f"ofac_alias:{entity}") in ("dev", "test")
        assert evaluation._split_of(f"ofac_alias:{entity}") == evaluation._split_of(
            f"ofac_alias:{entity}"
        )
    assert len(set(evaluation.CATEGORIES)) == len(evaluation.CATEGORIES)


def test_eu_latin_aliases_leave_cyrillic_out() -> None:
    alias = "Акционерное Общество «Сириус» (АО «Сириус»); JSC Sirius; Kontsern “Sirius”"
    assert evaluation._eu_latin_aliases(alias) == ["JSC Sirius", "Kontsern “Sirius"]


@pytest.mark.shared
@pytest.mark.slow
def test_every_category_has_pairs_in_both_splits() -> None:
    _need_shared()
    pairs = evaluation.build_eval_set(SHARED, include_non_variants=True)
    again = evaluation.build_eval_set(SHARED, include_non_variants=True)
    assert pairs.equals(again)  # deterministic
    assert set(pairs["category"]) == set(evaluation.CATEGORIES)
    # Russian organisations: every category but the EU-only transliteration.
    recent = pairs.filter(pl.col("source") == evaluation.RECENT_SOURCE)
    for category in evaluation.CATEGORIES:
        for split in ("dev", "test"):
            rows = pairs.filter((pl.col("category") == category) & (pl.col("split") == split))
            assert rows["label"].any() and (~rows["label"]).any(), (category, split)
            if category != "transliteration":
                got = recent.filter((pl.col("category") == category) & (pl.col("split") == split))
                assert got["label"].any(), (category, split)
    # One entity is in one split, in every source it appears in (OFAC ent_nums agree).
    ofac = pairs.filter(pl.col("source").str.starts_with("ofac"))
    assert ofac.group_by("query_entity").agg(pl.col("split").n_unique())["split"].max() == 1
    # EU rows are never paired with OFAC entries, nor OFAC queries with EU entries.
    eu_entries = pairs["entry_id"].str.starts_with("eu:")
    assert (eu_entries == pairs["source"].str.starts_with("eu")).all()
    # The headline set is the variant part of the full set.
    headline = evaluation.build_eval_set(SHARED)
    inside = pairs.filter(
        pl.col("source").is_in(evaluation.HEADLINE_SOURCES)
        & pl.col("category").is_in(evaluation.HEADLINE_CATEGORIES)
    )
    assert inside.height >= 0.99 * headline.height
    assert set(headline["category"]) == set(evaluation.HEADLINE_CATEGORIES)


@pytest.mark.shared
@pytest.mark.slow
def test_per_category_report_and_screening() -> None:
    _need_shared()
    result = evaluation.report(SHARED)
    for split in ("dev", "test"):
        for population in evaluation.POPULATIONS:
            figures = result["per_category"][split][population]
            assert "all" in figures and {"acronym", "translation", "former_name"} <= set(figures)
            for f in figures.values():
                assert {"positives", "negatives", "matcher", "baseline"} <= set(f)
                assert 0 <= f["matcher"]["precision"] <= 1 and 0 <= f["matcher"]["recall"] <= 1
                assert f["matcher"]["tp"] + f["matcher"]["fn"] == f["positives"]
        overall = result["per_category"][split]["ofac2021+eu"]["all"]
        assert overall["matcher"]["f1"] > overall["baseline"]["f1"]
        screening = result["screening"][split]
        total = screening["all"]
        assert total["queries"] == sum(f["queries"] for c, f in screening.items() if c != "all")
        assert total["correct"] <= total["predicted"] <= total["queries"]
    assert result["test"]["f1"] > result["baseline_test"]["f1"]
    screened = result["screened"]
    # A prediction counts only when the top candidate is the alias's own entry.
    assert (
        screened["correct"]
        == (
            screened["predicted"] & (screened["top_entry"] == screened["entry_id"]).fill_null(False)
        )
    ).all()
