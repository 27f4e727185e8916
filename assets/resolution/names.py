"""Normalization of company and person names for screening.

`normalize(name)` returns a `NameForms`: the name cleaned (Unicode, homoglyphs, quotes and
punctuation), its legal form unified to one token (`llc`, `jsc`, `ltd`, `as`, `llp`, `corp`, ...),
the core tokens without the legal form, every Latin form of a Cyrillic name (GOST 7.79-2000
system B, ICAO Doc 9303, BGN/PCGN and rigour's own romanization) and a romanization-insensitive
"skeleton" of each form that the matcher compares. Legal forms are found with rigour's
organisation-type database; rigour and normality have no scheme-specific Russian romanization,
so the three standard tables are written out here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from rigour.names import extract_org_types, remove_org_types
from rigour.text import ascii_text, is_stopword
from rigour.text.normalize import Normalize
from rigour.text.normalize import normalize as rigour_normalize

SCHEMES: tuple[str, ...] = ("gost_7_79", "icao_9303", "bgn_pcgn", "rigour")

# rigour's type-specific compare form -> our one canonical token per legal form.
LEGAL_FORMS: dict[str, str] = {
    "ooo": "llc",
    "llc": "llc",
    "ao": "jsc",
    "zao": "jsc",
    "pao": "jsc",
    "jsc": "jsc",
    "ojsc": "jsc",
    "pjsc": "jsc",
    "cjsc": "jsc",
    "ltd": "ltd",
    "coltd": "ltd",
    "pte ltd": "ltd",
    "as": "as",
    "тоо": "llp",
    "llp": "llp",
    "inc": "inc",
    "kft.": "kft",
    "sti": "ltd",
}
# Forms rigour does not know (or knows only with diacritics), as regexes over the ASCII core.
_EXTRA_LEGAL_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:corporation|corp)\b"), "corp"),
    (re.compile(r"\banonim sirketi\b"), "as"),
    (re.compile(r"\bsirketi\b"), "ltd"),
    (re.compile(r"^(?:too|tov) \b|\b (?:too|tov)$"), "llp"),
    (re.compile(r"^ooo \b|\b ooo$"), "llc"),
    (re.compile(r"^(?:ao|zao|oao|pao) \b|\b (?:ao|zao|oao|pao)$"), "jsc"),
)

# Cyrillic and Latin letters that look alike (upper and lower case).
_CYR_TO_LAT = dict(
    zip(
        "АВЕКМНОРСТХУаеорсухіјѕІЈЅ",
        "ABEKMHOPCTXYaeopcyxijsIJS",
        strict=True,
    )
)
_LAT_TO_CYR = {lat: cyr for cyr, lat in _CYR_TO_LAT.items() if cyr not in "јѕЈЅ"}
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")

_VOWELS = set("аеёиоуыэюяіїє")
_YE_CONTEXT = _VOWELS | set("йъь")

_COMMON = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "ч": "ch", "ш": "sh", "ы": "y", "э": "e",
    "ь": "", "ъ": "", "і": "i", "ґ": "g",
}  # fmt: skip
_TABLES: dict[str, dict[str, str]] = {
    "gost_7_79": _COMMON
    | {"ё": "yo", "й": "j", "х": "x", "ц": "cz", "щ": "shh", "ю": "yu", "я": "ya",
       "ї": "yi", "є": "ye"},
    "icao_9303": _COMMON
    | {"ё": "e", "й": "i", "х": "kh", "ц": "ts", "щ": "shch", "ъ": "ie", "ю": "iu",
       "я": "ia", "ї": "i", "є": "ie"},
    "bgn_pcgn": _COMMON
    | {"ё": "e", "й": "y", "х": "kh", "ц": "ts", "щ": "shch", "ю": "yu", "я": "ya",
       "ї": "yi", "є": "ye"},
}  # fmt: skip

# Romanization-insensitive skeleton: digraphs and letters that romanizations render
# differently map to one form (longest first), then doubled letters collapse.
_SKELETON_MAP = {
    "shch": "S", "shh": "S", "sch": "S", "tch": "C", "sh": "S", "ch": "C", "dzh": "Z",
    "zh": "Z", "kh": "h", "ck": "k", "q": "k", "ph": "f", "w": "v", "x": "ks", "ts": "c",
    "tz": "c", "cz": "c", "ou": "u", "oo": "u", "y": "i", "j": "i",
}  # fmt: skip
_SKELETON = re.compile("|".join(sorted(_SKELETON_MAP, key=len, reverse=True)))
_DOUBLES = re.compile(r"(.)\1+")
_PLACEHOLDERS = str.maketrans({"S": "sh", "C": "ch", "Z": "zh"})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_NAME_FLAGS = Normalize.CASEFOLD | Normalize.NAME


@dataclass(frozen=True)
class NameForms:
    """One name in every form the matcher uses.

    `normalized` is the primary Latin form with the canonical legal-form token at the end;
    `core` its tokens without the legal form. `latin` holds the core under every
    romanization, `variants` the skeleton tokens of each distinct Latin form (what the
    matcher compares) and `raw_variants` the Latin tokens each skeleton came from. `weight`
    is a list-independent distinctiveness in 0..1: long, non-stopword core tokens give a high
    weight; short or generic names a low one.
    """

    original: str
    normalized: str
    tokens: tuple[str, ...]
    legal_form: str | None
    core: tuple[str, ...]
    weight: float
    script: str
    latin: frozenset[str]
    variants: tuple[tuple[str, ...], ...]
    raw_variants: tuple[tuple[str, ...], ...]

    @property
    def is_empty(self) -> bool:
        return not self.core


def _word_script(word: str) -> str:
    """latin, cyrillic, lookalike (only letters both scripts share) or none."""
    lat = cyr = shared = 0
    for ch in word:
        if ch in _CYR_TO_LAT or ch in _LAT_TO_CYR:
            shared += 1
        elif _LATIN.match(ch):
            lat += 1
        elif _CYRILLIC.match(ch):
            cyr += 1
    if lat or cyr:
        if lat == cyr:
            return (
                "latin" if len(_LATIN.findall(word)) >= len(_CYRILLIC.findall(word)) else "cyrillic"
            )
        return "latin" if lat > cyr else "cyrillic"
    return "lookalike" if shared else "none"


def fix_homoglyphs(text: str) -> str:
    """Replace look-alike letters of the wrong script inside words.

    A word's script is decided by its letters that exist in one script only ("TEXHOЛOГИЯ" is
    Cyrillic because of Л, Г, И, Я); its look-alike letters are then written in that script.
    A word made only of look-alikes ("СОМ", "OOO") takes the script of the other words of the
    name, Latin when they are tied.
    """
    if text.isascii() or not _CYRILLIC.search(text):
        return text
    words = text.split(" ")
    scripts = [_word_script(w) for w in words]
    latin_words, cyrillic_words = scripts.count("latin"), scripts.count("cyrillic")
    if latin_words == cyrillic_words:
        latin_words, cyrillic_words = len(_LATIN.findall(text)), len(_CYRILLIC.findall(text))
    default = "latin" if latin_words >= cyrillic_words else "cyrillic"
    out = []
    for word, script in zip(words, scripts, strict=True):
        if script == "lookalike":
            script = default
        if script == "latin":
            word = "".join(_CYR_TO_LAT.get(ch, ch) for ch in word)
        elif script == "cyrillic":
            word = "".join(_LAT_TO_CYR.get(ch, ch) for ch in word)
        out.append(word)
    return " ".join(out)


def transliterate(text: str, scheme: str) -> str:
    """Romanize the Cyrillic letters of lower-case `text` under `scheme` (one of SCHEMES)."""
    if text.isascii():
        return text.lower()
    if scheme == "rigour":
        return ascii_text(text).lower()
    table = _TABLES[scheme]
    out: list[str] = []
    prev = " "
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else " "
        if scheme == "bgn_pcgn" and ch in "её" and (not prev.isalpha() or prev in _YE_CONTEXT):
            out.append("ye" if ch == "е" else "yo")
        elif scheme == "gost_7_79" and ch == "ц" and nxt in "еиыйіє":
            out.append("c")
        else:
            out.append(table.get(ch, ch))
        prev = ch
    return ascii_text("".join(out)).lower()


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """A romanization-insensitive key of an ASCII token (kh=h, y=j=i, ts=cz=c, doubles...)."""
    if token.isdigit():
        return token
    token = _SKELETON.sub(lambda m: _SKELETON_MAP[m.group(0)], token)
    return _DOUBLES.sub(r"\1", token).translate(_PLACEHOLDERS)


def latin_forms(name: str) -> set[str]:
    """Every Latin form of `name`'s core (without legal form) under the known romanizations."""
    return set(normalize(name).latin)


def clean(name: str) -> str:
    """Unicode-normalized, homoglyph-fixed, casefolded text with punctuation removed."""
    text = unicodedata.normalize("NFKC", name or "")
    text = fix_homoglyphs(" ".join(text.split()))
    return rigour_normalize(text, _NAME_FLAGS) or ""


def split_legal_form(text: str) -> tuple[str | None, str]:
    """(canonical legal form or None, text without legal-form words) for cleaned `text`.

    A removal that would leave nothing (the name "ООО", "AB CORP") is not made.
    """
    found: list[str] = []
    core = text
    for pattern, canonical in _EXTRA_LEGAL_FORMS:
        if pattern.search(core):
            rest = " ".join(pattern.sub(" ", core).split())
            if rest:
                found.append(canonical)
                core = rest
    rigour_found = extract_org_types(core)
    if rigour_found:
        rest = " ".join(remove_org_types(core).split())
        if rest:
            found += [LEGAL_FORMS.get(target, target) for _, target in rigour_found]
            core = rest
    return (found[0] if found else None), core


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(t for t in _NON_ALNUM.split(text) if t)


@lru_cache(maxsize=100_000)
def _stopword(token: str) -> bool:
    return is_stopword(token)


def _weight(core: tuple[str, ...]) -> float:
    info = sum(min(len(t), 8) for t in core if not _stopword(t))
    return round(min(1.0, info / 10), 3)


@lru_cache(maxsize=200_000)
def normalize(name: str) -> NameForms:
    """All forms of one company or person name (cached)."""
    text = clean(name)
    legal_form, core_text = split_legal_form(text)
    has_cyrillic = bool(_CYRILLIC.search(core_text))
    script = (
        "mixed"
        if has_cyrillic and _LATIN.search(core_text)
        else "cyrillic"
        if has_cyrillic
        else "latin"
    )
    schemes = SCHEMES if has_cyrillic else ("rigour",)
    forms: list[tuple[str, ...]] = []
    for scheme in schemes:
        tokens = _tokens(transliterate(core_text, scheme))
        if tokens and tokens not in forms:
            forms.append(tokens)
    primary = forms[-1] if forms else ()
    variants: list[tuple[str, ...]] = []
    raw_variants: list[tuple[str, ...]] = []
    for form in forms:
        skel = tuple(skeleton(t) for t in form)
        if skel not in variants:
            variants.append(skel)
            raw_variants.append(form)
    all_tokens = primary + ((legal_form,) if legal_form else ())
    return NameForms(
        original=name,
        normalized=" ".join(all_tokens),
        tokens=all_tokens,
        legal_form=legal_form,
        core=primary,
        weight=_weight(primary),
        script=script,
        latin=frozenset(" ".join(f) for f in forms),
        variants=tuple(variants),
        raw_variants=tuple(raw_variants),
    )
