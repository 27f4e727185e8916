"""Normalization of company and person names for screening.

`normalize(name)` returns a `NameForms`: the name cleaned (Unicode, homoglyphs, quotes and
punctuation), its legal form unified to one token (`llc`, `jsc`, `ltd`, `as`, `llp`, `corp`, ...)
with its compatibility group, the core tokens without the legal form, every Latin form of a
Cyrillic name (GOST 7.79-2000 system B, ICAO Doc 9303, BGN/PCGN from the `iuliia` package, and
rigour's own romanization), Russian organisational terms replaced by one token each
(`org_terms.yaml`, see `vocabulary.py`: "Nauchno-Proizvodstvennoe Predpriyatie", "Research and
Production Enterprise" and "NPP" are all `npp`) and a romanization-insensitive "skeleton" of
each form that the matcher compares. Legal forms are found with rigour's organisation-type
database and the vocabulary's legal forms. `name_parts(name)` splits the short forms in
parentheses and the "a.k.a." inside a name into names of their own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

import iuliia
from rigour.names import extract_org_types
from rigour.text import ascii_text, is_stopword
from rigour.text.normalize import Normalize
from rigour.text.normalize import normalize as rigour_normalize

from assets.resolution.vocabulary import CONNECTORS, default_vocabulary

SCHEMES: tuple[str, ...] = ("gost_7_79", "icao_9303", "bgn_pcgn", "rigour")
# A Cyrillic name is romanized under the three standards; rigour's own romanization (the
# fourth scheme) added a distinct skeleton for under 1% of names and cost a third of the time.
CYRILLIC_SCHEMES: tuple[str, ...] = ("gost_7_79", "icao_9303", "bgn_pcgn")

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
    (re.compile(r"^too \b|\b too$"), "llp"),
    (re.compile(r"^tov \b|\b tov$"), "llc"),  # Ukrainian ТОВ: a limited liability company
    (re.compile(r"^ooo \b|\b ooo$"), "llc"),
    (re.compile(r"^(?:ao|zao|oao|pao) \b|\b (?:ao|zao|oao|pao)$"), "jsc"),
)
# Every word one of those patterns needs: a text without any is not searched further.
_EXTRA_LEGAL_WORDS = re.compile(r"\b(?:corporation|corp|sirketi|too|tov|ooo|ao|zao|oao|pao)\b")

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


# The standard romanizations come from `iuliia` (GOST 7.79-2000 system B is its `gost_779_alt`).
# iuliia's schemas are Russian: the Ukrainian letters are romanized first, as each standard
# gives them (Ukrainian є is "ie" in ICAO 9303, not "e").
_IULIIA = {
    "gost_7_79": iuliia.GOST_779_ALT,
    "icao_9303": iuliia.ICAO_DOC_9303,
    "bgn_pcgn": iuliia.BGN_PCGN,
}
_UKRAINIAN = {
    "gost_7_79": str.maketrans({"і": "i", "ї": "yi", "є": "ye", "ґ": "g"}),
    "icao_9303": str.maketrans({"і": "i", "ї": "i", "є": "ie", "ґ": "g"}),
    "bgn_pcgn": str.maketrans({"і": "i", "ї": "yi", "є": "ye", "ґ": "g"}),
}
# Soft and hard sign marks and apostrophes some schemes write: dropped, never a word break.
_MARKS = re.compile(r"['`\u2019\u02b9\u02ba\u201d\u02bc]")

# Romanization-insensitive skeleton: digraphs and letters that romanizations render
# differently map to one form (longest first), then doubled letters collapse.
_SKELETON_MAP = {
    "shch": "S", "shh": "S", "sch": "S", "tch": "C", "sh": "S", "ch": "C", "dzh": "Z",
    "zh": "Z", "kh": "h", "ck": "k", "q": "k", "ph": "f", "w": "v", "x": "ks", "ts": "c",
    "tz": "c", "cz": "c", "ou": "u", "oo": "u", "y": "i", "j": "i",
}  # fmt: skip
_SKELETON = re.compile("|".join(sorted(_SKELETON_MAP, key=len, reverse=True)))
_DOUBLES = re.compile(r"(.)\1+")
# Replaces a match by its first group, like the template r"\1" without re's Python expansion.
_GROUP_1 = itemgetter(1)
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
    # Compatibility group of the legal form (`jsc`, `llc`, `unitary`, ...; None when the form
    # is unknown or compatible with every other, like `ltd` or `corp`) and the Russian
    # organisational terms found (`npp`, `kb`, `zavod`, ...).
    legal_group: str | None = None
    org_types: tuple[str, ...] = ()
    # Initials of a name of 3+ words (org terms give their abbreviation), in its Russian and
    # its canonical wording: "Rossiyskiye Kosmicheskiye Sistemy" -> "rks".
    acronyms: frozenset[str] = frozenset()

    @property
    def is_organisation(self) -> bool:
        """True when the name carries a legal form or an organisational term."""
        return bool(self.legal_form or self.org_types)

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
    pieces = _WORD_BOUNDARY.split(text.translate(_UKRAINIAN[scheme]))
    latin = "".join(_romanize_piece(piece, scheme) for piece in pieces if piece)
    return ascii_text(_MARKS.sub("", latin)).lower()


# iuliia romanizes the pieces between word boundaries one by one (its `nlp.word_reader`):
# the same split, each piece cached, gives the same text.
_WORD_BOUNDARY = re.compile(r"\b")


@lru_cache(maxsize=100_000)
def _romanize_piece(piece: str, scheme: str) -> str:
    return str(_IULIIA[scheme].translate(piece))


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """A romanization-insensitive key of an ASCII token (kh=h, y=j=i, ts=cz=c, doubles...)."""
    if token.isdigit():
        return token
    token = _SKELETON.sub(lambda m: _SKELETON_MAP[m.group(0)], token)
    return _DOUBLES.sub(_GROUP_1, token).translate(_PLACEHOLDERS)


def latin_forms(name: str) -> set[str]:
    """Every Latin form of `name`'s core (without legal form) under the known romanizations."""
    return set(normalize(name).latin)


def clean(name: str) -> str:
    """Unicode-normalized, homoglyph-fixed, casefolded text with punctuation removed."""
    text = unicodedata.normalize("NFKC", name or "")
    text = fix_homoglyphs(" ".join(text.split()))
    return rigour_normalize(text, _NAME_FLAGS) or ""


@lru_cache(maxsize=10_000)
def _whole_words(text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(text)}(?!\w)")


def split_legal_form(text: str) -> tuple[str | None, str]:
    """(canonical legal form or None, text without legal-form words) for cleaned `text`.

    A removal that would leave nothing (the name "ООО", "AB CORP") is not made.
    """
    found: list[str] = []
    core = text
    for pattern, canonical in _EXTRA_LEGAL_FORMS if _EXTRA_LEGAL_WORDS.search(text) else ():
        if pattern.search(core):
            rest = " ".join(pattern.sub(" ", core).split())
            if rest:
                found.append(canonical)
                core = rest
    # rigour knows some forms without a compare form ("federal state unitary enterprise"):
    # those are left in the text for the vocabulary, which knows their group.
    # Forms rigour reads as foreign ones (KB a Swedish partnership, NPO an NGO) are Russian
    # organisational terms: the vocabulary has the last word on those, and on non-Latin targets.
    vocabulary = default_vocabulary()
    rigour_found = [
        (match, target)
        for match, target in extract_org_types(core)
        if target in LEGAL_FORMS
        or (target and target.isascii() and not vocabulary.is_org_term(match))
    ]
    if rigour_found:
        rest = core
        for match, _ in rigour_found:
            rest = _whole_words(match).sub(" ", rest, count=1)
        rest = " ".join(rest.split())
        if rest:
            found += [LEGAL_FORMS.get(target, target) for _, target in rigour_found]
            core = rest
    return (found[0] if found else None), core


_ORDINAL_ENDINGS = frozenset({"i", "j", "y", "iy", "yi", "ij", "ya", "ia", "e", "ye", "go", "oe"})
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th|ii|yi|iy|i|ya|ia|a|y|go|oe|ye|e)$")


def _tokens(text: str) -> tuple[str, ...]:
    """Alphanumeric tokens; an ordinal's suffix is dropped ("558th", "558-й" are "558")."""
    out: list[str] = []
    for token in _NON_ALNUM.split(text):
        if not token:
            continue
        if out and out[-1].isdigit() and token in _ORDINAL_ENDINGS:
            continue  # "558-й" -> "558"
        out.append(_ORDINAL.sub(_GROUP_1, token) if token[0].isdigit() else token)
    return tuple(out)


@lru_cache(maxsize=100_000)
def _stopword(token: str) -> bool:
    return is_stopword(token)


def _weight(core: tuple[str, ...]) -> float:
    info = sum(min(len(t), 8) for t in core if not _stopword(t))
    return _information_weight(info)


@lru_cache(maxsize=1_000)
def _information_weight(info: int) -> float:
    return round(min(1.0, info / 10), 3)


# Groups of the legal forms the conflict rule knows; forms not listed (ltd, inc, corp, as...)
# are compatible with every other. Vocabulary legal forms carry their own group.
# (rigour's fgup and the Russian forms are the vocabulary's legal-form terms.)
LEGAL_GROUPS: dict[str, str] = {"llc": "llc", "jsc": "jsc", "llp": "llp"}


def legal_group(legal_form: str | None) -> str | None:
    """Compatibility group of a canonical legal form (None: compatible with every form)."""
    if not legal_form:
        return None
    return LEGAL_GROUPS.get(legal_form) or default_vocabulary().group(legal_form)


def phrase_forms(text: str) -> list[tuple[str, ...]]:
    """Latin token tuples of a vocabulary phrase under every romanization (no legal-form
    removal, no vocabulary)."""
    cleaned = clean(text)
    schemes = CYRILLIC_SCHEMES if _CYRILLIC.search(cleaned) else ("rigour",)
    forms: list[tuple[str, ...]] = []
    for scheme in schemes:
        tokens = _tokens(transliterate(cleaned, scheme))
        if tokens and tokens not in forms:
            forms.append(tokens)
    return forms


_PAREN = re.compile(r"[(\[]([^()\[\]]*)[)\]]")
_AKA = re.compile(
    r"\s*[,;]?\s*\b(?:a\.?\s?k\.?\s?a|f\.?\s?k\.?\s?a|n\.?\s?k\.?\s?a|also known as"
    r"|formerly known as|formerly|previously)\b\.?:?\s*",
    re.IGNORECASE,
)


_AKA_HINTS = ("k.a", "aka", "kna", "fka", "known as", "formerly", "previously", "k. a")


def name_parts(name: str) -> list[str]:
    """The names written inside one name: the name without its parentheses, each short form
    in parentheses, and the parts around "a.k.a." / "f.k.a." / "formerly". A part that is
    not a name of its own (a country, one or two letters, a number) is left out. The whole
    name is always first."""
    text = " ".join((name or "").split())
    parts = [text]
    lower = text.lower()
    if "(" not in text and "[" not in text and not any(h in lower for h in _AKA_HINTS):
        return parts
    if "(" not in text and "[" not in text and not _AKA.search(text):
        return parts
    inner = [m.group(1).strip() for m in _PAREN.finditer(text)]
    outer = " ".join(_PAREN.sub(" ", text).split())
    for piece in [outer, *inner]:
        for item in _AKA.split(piece):
            item = item.strip(" ,;:-'\"")
            if item and item not in parts and _is_name(item):
                parts.append(item)
    return parts


# Company designators written in parentheses ("GARMENT (PVT.) LTD.", "(PTY) LTD"): not a name
# of their own, though rigour does not read all of them as legal forms.
_DESIGNATORS = frozenset(
    {"pvt", "pte", "pty", "private", "ltd", "limited", "inc", "llc", "co", "corp", "plc", "smc"}
)


def _is_name(text: str) -> bool:
    from assets.sanctions.countries import to_iso2

    forms = normalize(text)
    if forms.is_empty or forms.weight < 0.3:
        return False
    if set(re.findall(r"\w+", text.lower())) <= _DESIGNATORS:
        return False
    return to_iso2(text) is None


ACRONYM_MIN_LENGTH = 3


def acronym(tokens: Iterable[str], org_types: Iterable[str] = ()) -> str | None:
    """Initials of a name's words (connectors left out; an org-type token gives its whole
    abbreviation, "npp"), when they make at least ACRONYM_MIN_LENGTH letters."""
    types = set(org_types)
    words = [t for t in tokens if t not in CONNECTORS and t.isalpha()]
    if len(words) < 2:
        return None
    short = "".join(t if t in types and len(t) <= 4 else t[0] for t in words)
    return short if len(short) >= ACRONYM_MIN_LENGTH else None


@lru_cache(maxsize=200_000)
def normalize(name: str) -> NameForms:
    """All forms of one company or person name (cached)."""
    vocabulary = default_vocabulary()
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
    schemes = CYRILLIC_SCHEMES if has_cyrillic else ("rigour",)
    forms: list[tuple[str, ...]] = []
    found_legal: list[str] = []
    org_types: list[str] = []
    acronyms: set[str] = set()
    for scheme in schemes:
        tokens = _tokens(transliterate(core_text, scheme))
        canonical = vocabulary.canonicalize(tokens)
        changed = bool(canonical.tokens != tokens or canonical.org_types)
        for words, types in ((tokens, ()), (canonical.tokens, canonical.org_types))[: 1 + changed]:
            short = acronym(words, types)
            if short:
                acronyms.add(skeleton(short))
        found_legal += [f for f in canonical.legal_forms if f not in found_legal]
        org_types += [t for t in canonical.org_types if t not in org_types]
        if canonical.tokens and canonical.tokens not in forms:
            forms.append(canonical.tokens)
    if legal_form is None and found_legal:
        legal_form = found_legal[0]
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
        legal_group=legal_group(legal_form),
        org_types=tuple(org_types),
        acronyms=frozenset(acronyms),
    )
