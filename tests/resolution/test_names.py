"""Name normalization: legal forms, romanizations, homoglyphs, punctuation, word order."""

from __future__ import annotations

import pytest

from assets.resolution.names import (
    fix_homoglyphs,
    latin_forms,
    normalize,
    skeleton,
    transliterate,
)


@pytest.mark.parametrize(
    ("name", "legal_form"),
    [
        ('ООО "Акме"', "llc"),
        ("OOO ACME", "llc"),
        ("ACME LLC", "llc"),
        ("Limited Liability Company ACME", "llc"),
        ("Obshchestvo s ogranichennoi otvetstvennostyu ACME", "llc"),
        ("Общество с ограниченной ответственностью «Акме»", "llc"),
        ("АО «Акме»", "jsc"),
        ("ЗАО Акме", "jsc"),
        ("ПАО Акме", "jsc"),
        ("JSC ACME", "jsc"),
        ("Joint Stock Company ACME", "jsc"),
        ("Aktsionernoe obshchestvo ACME", "jsc"),
        ("ACME Co., Ltd.", "ltd"),
        ("ACME Limited", "ltd"),
        ("ACME A.S.", "as"),
        ("ACME Anonim Sirketi", "as"),
        ("ACME ANONİM ŞİRKETİ", "as"),
        ("TOO ACME", "llp"),
        ("ТОО «Акме»", "llp"),
        ("ACME Corp.", "corp"),
        ("ACME Corporation", "corp"),
    ],
)
def test_legal_form_variants_unify(name: str, legal_form: str) -> None:
    forms = normalize(name)
    core = "akme" if "Акме" in name else "acme"
    assert forms.legal_form == legal_form
    assert forms.core == (core,)
    assert forms.normalized == f"{core} {legal_form}"


def test_a_removal_that_would_leave_nothing_is_not_made() -> None:
    assert normalize("ООО").core == ("ooo",)
    assert normalize("AB CORP").core == ("ab",)
    assert normalize("AB CORP").legal_form == "corp"


def test_romanization_schemes() -> None:
    assert transliterate("щукин цой хабаров юрий", "gost_7_79") == "shhukin czoj xabarov yurij"
    assert transliterate("щукин цой хабаров юрий", "icao_9303") == "shchukin tsoi khabarov iurii"
    assert transliterate("щукин цой хабаров юрий", "bgn_pcgn") == "shchukin tsoy khabarov yuriy"
    assert transliterate("елена", "bgn_pcgn") == "yelena"
    assert transliterate("цирк", "gost_7_79") == "cirk"


def test_latin_forms_of_a_cyrillic_name_cover_every_scheme() -> None:
    forms = latin_forms("Щёкинский завод")
    assert {"shhyokinskij zavod", "shchekinskii zavod", "shchyokinskiy zavod"} <= forms


@pytest.mark.parametrize(
    "latin",
    [
        "OOO Shchekinskiy Zavod",  # BGN/PCGN
        "LLC Shchekinskii Zavod",  # ICAO 9303
        "Obshchestvo s ogranichennoy otvetstvennostyu Shhyokinskij Zavod",  # GOST 7.79
        "SHCHYOKINSKY ZAVOD, OOO",  # a hand-made mix
    ],
)
def test_romanization_variants_overlap_with_the_cyrillic_name(latin: str) -> None:
    cyrillic = normalize("Общество с ограниченной ответственностью «Щёкинский Завод»")
    forms = normalize(latin)
    assert forms.legal_form == cyrillic.legal_form == "llc"
    assert set(forms.variants) & set(cyrillic.variants)


def test_skeleton_is_romanization_insensitive() -> None:
    assert skeleton("aksyonov") == skeleton("aksionov")
    assert skeleton("berezovskiy") == skeleton("berezovskii") == skeleton("berezovskij")
    assert skeleton("marzook") == skeleton("marzuk")
    assert skeleton("kontsern") == skeleton("koncern")
    assert skeleton("12345") == "12345"


def test_homoglyphs_inside_words_are_repaired() -> None:
    # Cyrillic А, О and С inside Latin words.
    assert normalize("RОSАTОM MАRKЕT").core == ("rosatom", "market")
    assert fix_homoglyphs("ACME СОМ") == "ACME COM"
    # Latin T, E, X, H, O inside a Russian word: the word is Cyrillic.
    assert normalize("TEXHOЛOГИЯ LLC").core == normalize("ТЕХНОЛОГИЯ LLC").core
    assert normalize("TEXHOЛOГИЯ LLC").script == "cyrillic"
    # Latin i in a Ukrainian spelling.
    assert fix_homoglyphs("Сергiй") == "Сергій"


def test_quotes_punctuation_and_word_order() -> None:
    a = normalize("ООО «ИНВЕСТ-СТАНКО»")
    b = normalize("Invest Stanko, LLC")
    c = normalize("STANKO INVEST LLC")
    assert a.core == b.core == ("invest", "stanko")
    assert sorted(c.core) == sorted(a.core)


def test_name_forms_fields_and_distinctiveness() -> None:
    forms = normalize('ООО "ИНВЕСТ СТАНКО"')
    assert forms.original == 'ООО "ИНВЕСТ СТАНКО"'
    assert forms.tokens == ("invest", "stanko", "llc")
    assert forms.script == "cyrillic"
    assert "invest stanko" in forms.latin
    assert normalize("XY CORP").weight < 0.5 < normalize("BELLETECH CORP").weight
    assert normalize("").is_empty
