"""A labelled evaluation set built from real list data, and precision / recall / F1.

Pairs (query name, list entry, label), all read at run time from `../shared/reference-data`:

* OFAC positives: each strong alias in alt_2021-04-25.csv against its own entry's primary name
  in sdn_2021-04-25.csv. The headline set keeps the aliases that are a different rendering of
  the same name (`is_variant`), as it always has; `report` adds every other alias as its own
  category (below).
* EU cross-script positives: the Cyrillic aliases of the EU Russia-regime transcriptions
  (CC BY-NC, read in place, never copied) against the row's Latin name; `report` adds the
  row's Latin aliases too (`eu_latin`). EU rows are only ever paired with their own row.
* OFAC Russian organisations (`ofac_ru_2026`): the strong aliases of the recent alias file
  alt_2026-06-02.csv.gz against the primary name of the same ent_num in the latest SDN
  primary file, sdn_2024-05-03.csv.gz (addresses from add_2026-06-02.csv.gz). Kept for
  entries of type entity whose countries (addresses, identifiers) include RU, or that have no
  country and a RUSSIA-* / UKRAINE-EO1366x program: the population of the held-out test.
  Negatives are drawn from that 2024 list. OFAC and EU rows are never paired with each other
  (that pairing is kept back for the independent test).
* Negatives: the same queries against a different entry of the same source sharing a token
  with them, one drawn at random and one sharing the most tokens (ties drawn at random),
  seeded. Entries whose name has the query's `fingerprints` form are left out: two entities
  with one name cannot be told apart by name (the same entity in OFAC and in the EU file
  would be a false "negative" too, hence the same-source rule). An entry whose name meets the
  positive criterion against the query or the query's own entity is a namesake (family
  members, branches sharing a name): one per query is kept as pair kind `namesake`, reported
  apart and left out of the headline figures, since no name matcher can tell them apart.
  A negative (and a namesake) has the category of the positive it was drawn for.

Alias categories (`classify_alias`), rules on normality's ASCII tokens (`simple_tokens`) that
do not use the matcher, applied in this order:

1. `variant` / `transliteration`: `is_variant` holds (every token of the shorter name, and
   half of the longer one's, share a 3-letter prefix with a token of the other);
   `transliteration` when the alias is Cyrillic and the name is not (EU pairs).
2. `legal_form`: `is_variant` holds once legal-form words (`LEGAL_FORM_WORDS`: OOO, AO,
   "joint stock company", "obshchestvo s ogranichennoi otvetstvennostyu", ...) are removed
   from both sides. A former name that differs only in its legal form is counted here: the
   name itself did not change.
3. `former_name`: the source calls the alias a former name (OFAC `fka`, or an EU alias
   saying "former"/"formerly"/"previously"), or the primary the former name (OFAC `nka`: the
   alias is the new name).
4. `acronym` (`is_acronym`): every token of the shorter side is a word of the other (3-letter
   prefix), a legal form, an organisation-type abbreviation (`ORG_ABBREVIATIONS`: NPP, NII,
   KB, OKB, TsNII, FGUP, ...) or an initialism spelled by the first letters of a run of 2+
   consecutive words of the other side (digraphs ts/ch/sh/zh/kh/ya/yu count as one letter,
   stop words and legal forms may be skipped); and at least one is an initialism, or an
   organisation-type abbreviation with 2+ words of the other side left over. A one-token side
   of 2-5 letters without a vowel (after dropping legal forms) is an acronym too.
5. `translation`: one side has a common English word (`ENGLISH_WORDS`: company, plant,
   research, of, ...) missing from the other, and the other has a foreign word (Cyrillic, a
   Russian transliterated ending such as -skiy, -aya, -oye, -stvo, or `FOREIGN_WORDS`:
   zavod, institut, de, la, al, ...).
6. `other_name`: anything else (noms de guerre, brand names, partial names, spellings whose
   first three letters differ).

Each pair belongs to the dev or test split by a hash of its query's entity (OFAC ent_nums
hash alike in both OFAC sources), so thresholds tuned on dev are reported on test. The
baseline is rapidfuzz `token_sort_ratio` over `fingerprints.generate` forms, its threshold the
best F1 on dev. `screening_eval` screens every alias of the Russian organisations (all
categories) against the 2024 primary names with `Matcher.screen(top=1)`, as the independent
test counts: a `match` on another entry is a false positive. Run
`python -m assets.resolution.evaluation` for the figures.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import random
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import fingerprints
import normality
import polars as pl
from rapidfuzz import fuzz, process

from assets.resolution.matcher import MatchConfig, Matcher
from assets.sanctions import ofac_sdn

SEED = 20210425
DEFAULT_SHARED = Path(__file__).resolve().parents[2].parent / "shared"
OFAC_SDN = "reference-data/ofac-sdn/sdn_2021-04-25.csv"
OFAC_ALT = "reference-data/ofac-sdn/alt_2021-04-25.csv"
# The recent alias and address files, paired with the latest SDN primary file (ent_nums agree).
OFAC_RECENT_SDN = "reference-data/ofac-sdn/sdn_2024-05-03.csv.gz"
OFAC_RECENT_ALT = "reference-data/ofac-sdn/alt_2026-06-02.csv.gz"
OFAC_RECENT_ADD = "reference-data/ofac-sdn/add_2026-06-02.csv.gz"
RUSSIA_PROGRAMS = re.compile(r"RUSSIA|UKRAINE-EO1366")
EU_FILES = (
    "reference-data/eu/32014R0833_2026-07-17.csv",
    "reference-data/eu/32014R0269_2026-07-17.csv",
    "reference-data/eu/32026R1843.csv",
    "reference-data/eu/32026R1848.csv",
)
EU_SCHEMAS = {
    "LegalEntity": "entity",
    "Company": "entity",
    "Organization": "entity",
    "Person": "individual",
}
EVAL_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),  # ofac_alias | eu_cyrillic
    "query_entity": pl.String(),
    "name": pl.String(),  # the query name
    "entry_id": pl.String(),  # the list entry it is compared with
    "target_name": pl.String(),
    "entity_type": pl.String(),
    "label": pl.Boolean(),
    "pair_kind": pl.String(),  # variant | other_name | random_negative | hard_negative | namesake
    "split": pl.String(),  # dev | test
    "category": pl.String(),  # one of CATEGORIES (a negative: its positive's)
    "alias_type": pl.String(),  # the source's alias type (OFAC aka / fka / nka), or null
}
CATEGORIES = (
    "variant",
    "transliteration",
    "legal_form",
    "former_name",
    "acronym",
    "translation",
    "other_name",
)
# Sources of the headline set (variant pairs only, as before the categories were added).
HEADLINE_SOURCES = ("ofac_alias", "eu_cyrillic")
HEADLINE_CATEGORIES = ("variant", "transliteration")
RECENT_SOURCE = "ofac_ru_2026"
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_SPLIT = re.compile(r"[^a-z0-9]+")


def simple_tokens(name: str) -> list[str]:
    """Neutral tokens for selecting pairs: normality's ASCII form, lower case, 2+ characters.
    Deliberately independent of the matcher's own normalization."""
    text = normality.ascii_text(name or "").lower()
    return [t for t in _SPLIT.split(text) if len(t) >= 2]


def is_variant(a: Sequence[str], b: Sequence[str]) -> bool:
    """True when `a` and `b` read as renderings of one name rather than two names: every
    token of the shorter has a token in the longer starting with the same three letters, and
    so do at least half the tokens of the longer (missing middle names are allowed)."""
    if not a or not b:
        return False
    short, long = sorted((a, b), key=len)
    hits_short = sum(1 for t in short if any(t[:3] == u[:3] for u in long))
    hits_long = sum(1 for t in long if any(t[:3] == u[:3] for u in short))
    return hits_short == len(short) and 2 * hits_long >= len(long)


def _is_variant_with(
    a: Sequence[str], a_prefixes: frozenset[str], b: Sequence[str], b_prefixes: frozenset[str]
) -> bool:
    """`is_variant(a, b)` given each side's set of 3-letter prefixes (faster in a loop)."""
    if not a or not b:
        return False
    if len(b) < len(a):
        a, a_prefixes, b, b_prefixes = b, b_prefixes, a, a_prefixes
    if not all(t[:3] in b_prefixes for t in a):
        return False
    return 2 * sum(1 for t in b if t[:3] in a_prefixes) >= len(b)


# Legal-form words, English and Russian transliterated (as `simple_tokens` gives them).
LEGAL_FORM_WORDS = frozenset(
    [
        "llc",
        "ltd",
        "limited",
        "liability",
        "company",
        "co",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "jsc",
        "pjsc",
        "ojsc",
        "cjsc",
        "joint",
        "stock",
        "public",
        "closed",
        "open",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "ou",
        "bv",
        "srl",
        "fzco",
        "fze",
        "llp",
        "pte",
        "ooo",
        "oao",
        "zao",
        "ao",
        "pao",
        "nao",
        "too",
        "tov",
        "obshchestvo",
        "obshcestvo",
        "obschestvo",
        "ogranichennoi",
        "ogranichennoy",
        "ogranichennoj",
        "organichennoy",
        "otvetstvennostyu",
        "otvestvennostyu",
        "otvetstvennostiu",
        "aktsionernoe",
        "aktsionernoye",
        "aktsionernoe",
        "zakrytoe",
        "zakrytoye",
        "otkrytoe",
        "otkrytoye",
        "publichnoe",
        "publichnoye",
        "nepublichnoe",
        "nepublichnoye",
    ]
)
# Russian organisation-type abbreviations (scientific-production enterprise, research
# institute, design bureau, state unitary enterprise, ...).
ORG_ABBREVIATIONS = frozenset(
    [
        "npp",
        "npo",
        "npk",
        "npts",
        "npc",
        "npf",
        "nii",
        "nic",
        "nits",
        "niti",
        "nipi",
        "kb",
        "okb",
        "skb",
        "tskb",
        "tsnii",
        "tsniii",
        "nio",
        "gk",
        "fgup",
        "fgbu",
        "fgbou",
        "fsue",
        "fgu",
        "gup",
        "mup",
        "ano",
    ]
)
_STOP_WORDS = frozenset(
    [
        "of",
        "the",
        "and",
        "for",
        "de",
        "la",
        "del",
        "des",
        "du",
        "le",
        "et",
        "im",
        "imeni",
        "named",
        "after",
        "na",
        "po",
    ]
)
ENGLISH_WORDS = frozenset(
    [
        "of",
        "and",
        "the",
        "for",
        "company",
        "bank",
        "plant",
        "factory",
        "works",
        "institute",
        "research",
        "scientific",
        "science",
        "production",
        "design",
        "bureau",
        "center",
        "centre",
        "state",
        "federal",
        "university",
        "engineering",
        "trading",
        "trade",
        "group",
        "enterprise",
        "enterprises",
        "association",
        "holding",
        "holdings",
        "international",
        "national",
        "development",
        "technologies",
        "technology",
        "systems",
        "system",
        "military",
        "industrial",
        "industry",
        "industries",
        "machine",
        "building",
        "electronics",
        "electronic",
        "instrument",
        "instruments",
        "shipyard",
        "shipbuilding",
        "aircraft",
        "aviation",
        "engine",
        "engines",
        "chemical",
        "metallurgical",
        "pipe",
        "steel",
        "oil",
        "gas",
        "energy",
        "power",
        "nuclear",
        "space",
        "rocket",
        "missile",
        "defense",
        "defence",
        "security",
        "services",
        "service",
        "management",
        "investment",
        "investments",
        "finance",
        "financial",
        "capital",
        "insurance",
        "fund",
        "foundation",
        "academy",
        "laboratory",
        "special",
        "technical",
        "united",
        "new",
        "north",
        "south",
        "east",
        "west",
        "northern",
        "southern",
        "eastern",
        "western",
        "central",
        "russian",
        "ministry",
        "department",
        "agency",
        "committee",
        "administration",
        "directorate",
        "union",
        "council",
        "party",
        "army",
        "republic",
        "people",
        "society",
        "navy",
        "air",
        "forces",
        "guard",
        "corps",
        "intelligence",
        "main",
        "general",
        "concern",
        "complex",
        "unitary",
        "budget",
        "educational",
        "institution",
        "higher",
        "education",
        "mining",
        "medical",
        "communications",
        "commercial",
        "railway",
        "railways",
        "shipping",
        "transport",
        "logistics",
        "marine",
        "sea",
        "river",
        "construction",
        "equipment",
        "materials",
        "optical",
        "precision",
        "heavy",
        "electric",
    ]
)
FOREIGN_WORDS = frozenset(
    [
        "zavod",
        "kompaniya",
        "kontsern",
        "obyedinenie",
        "obedinenie",
        "nauchno",
        "proizvodstvennoe",
        "proizvodstvennoye",
        "predpriyatie",
        "predpriyatiye",
        "predpriiatie",
        "institut",
        "tsentr",
        "upravlenie",
        "ministerstvo",
        "fond",
        "gruppa",
        "torgovyi",
        "torgovy",
        "de",
        "del",
        "la",
        "las",
        "los",
        "el",
        "sociedad",
        "compania",
        "empresa",
        "societe",
        "fondation",
        "fundacion",
        "banco",
        "banque",
        "nacional",
        "internacional",
        "grupo",
        "servicios",
        "industrias",
        "al",
    ]
)
_RUSSIAN_ENDING = re.compile(
    r"(iy|yy|yi|ii|ij|aya|aia|oye|oe|ogo|ykh|ikh|iya|iia|stvo|iye|nye|nyy|nyi|skoy|skoi)$"
)
_DIGRAPHS = ("shch", "ts", "ch", "sh", "zh", "kh", "ya", "yu")
_VOWELS = frozenset("aeiou")


def _word_in(token: str, others: Sequence[str]) -> bool:
    return any(token[:3] == other[:3] for other in others)


def _spells(acronym: str, tokens: Sequence[str]) -> bool:
    """`acronym` is the first letters of a run of 2+ consecutive `tokens` (a digraph counts as
    one letter; stop words and legal forms inside the run may be skipped or spelled)."""
    skippable = _STOP_WORDS | LEGAL_FORM_WORDS

    def go(i: int, j: int, used: int) -> bool:
        if i == len(acronym):
            return used >= 2
        if j == len(tokens):
            return False
        token = tokens[j]
        if used and token in skippable and go(i, j + 1, used):
            return True
        heads = [token[:1]] + [d for d in _DIGRAPHS if token.startswith(d)]
        return any(acronym.startswith(h, i) and go(i + len(h), j + 1, used + 1) for h in heads)

    return any(go(0, j, 0) for j in range(len(tokens)))


def is_acronym(a: Sequence[str], b: Sequence[str]) -> bool:
    """True when one side abbreviates the other (rule 4 of the module docstring)."""
    for short, long in ((a, b), (b, a)):
        core = [t for t in short if t not in LEGAL_FORM_WORDS]
        long_core = [t for t in long if t not in LEGAL_FORM_WORDS]
        if not core or len(core) > len(long_core):
            continue
        if (
            len(core) == 1
            and 2 <= len(core[0]) <= 5
            and core[0].isalpha()
            and not _VOWELS & set(core[0])
            and len(long_core) >= 2
            and not _word_in(core[0], long_core)
        ):
            return True
        initialisms = abbreviations = 0
        words: list[str] = []
        for token in core:
            if _word_in(token, long_core):
                words.append(token)
            elif 2 <= len(token) <= 8 and token.isalpha() and _spells(token, long):
                initialisms += 1
            elif token in ORG_ABBREVIATIONS:
                abbreviations += 1
            else:
                break
        else:
            left_over = [t for t in long_core if not _word_in(t, words)]
            if initialisms or (abbreviations and len(left_over) >= 2):
                return True
    return False


def _foreign(tokens: Sequence[str], cyrillic: bool) -> bool:
    return cyrillic or any(t in FOREIGN_WORDS or _RUSSIAN_ENDING.search(t) for t in tokens)


def is_translation(a: str, b: str) -> bool:
    """True when one name has a common English word missing from the other and the other a
    foreign word (rule 5 of the module docstring)."""
    ta = [t for t in simple_tokens(a) if t not in LEGAL_FORM_WORDS]
    tb = [t for t in simple_tokens(b) if t not in LEGAL_FORM_WORDS]
    for x, (y, y_text) in ((ta, (tb, b)), (tb, (ta, a))):
        english = {t for t in x if t in ENGLISH_WORDS} - set(y)
        if english and _foreign(y, bool(_CYRILLIC.search(y_text))):
            return True
    return False


def classify_alias(alias: str, name: str, alias_type: str | None = None) -> str:
    """The category of the pair (alias, primary name of the same entity): one of
    `CATEGORIES`, by the rules of the module docstring. Independent of the matcher."""
    a, b = simple_tokens(alias), simple_tokens(name)
    if is_variant(a, b):
        cyrillic = bool(_CYRILLIC.search(alias)) and not _CYRILLIC.search(name)
        return "transliteration" if cyrillic else "variant"
    a_core = [t for t in a if t not in LEGAL_FORM_WORDS]
    b_core = [t for t in b if t not in LEGAL_FORM_WORDS]
    if is_variant(a_core, b_core):
        return "legal_form"
    former = re.search(r"\b(former|formerly|previously)\b", alias, re.IGNORECASE)
    if former or (alias_type or "").lower().replace(".", "") in ("fka", "nka"):
        return "former_name"
    if is_acronym(a, b):
        return "acronym"
    if is_translation(alias, name):
        return "translation"
    return "other_name"


def _split_of(entity: str) -> str:
    digest = hashlib.sha256(f"{SEED}:{entity}".encode()).digest()
    return "dev" if digest[0] % 2 == 0 else "test"


def _eu_aliases(alias: str | None) -> list[str]:
    """Cyrillic alias strings of one EU row: `; `-separated, a trailing `(short form)` apart."""
    found: list[str] = []
    for item in re.split(r";| / ", alias or ""):
        item = item.strip()
        short = re.search(r"\(([^()]*)\)\s*$", item)
        if short:
            item, inner = item[: short.start()].strip(), short.group(1).strip()
            if _CYRILLIC.search(inner):
                found.append(inner)
        if item and _CYRILLIC.search(item):
            found.append(item)
    return found


def _ofac_rows(entries: pl.DataFrame) -> pl.DataFrame:
    """OFAC entries in the evaluation list's layout (no EU aliases)."""
    return entries.select(
        "entry_id",
        "entity_type",
        "name",
        "countries",
        pl.lit("ofac").alias("source"),
        pl.lit([], dtype=pl.List(pl.String)).alias("eu_aliases"),
        pl.lit([], dtype=pl.List(pl.String)).alias("eu_latin_aliases"),
    )


def load_eval_list(shared_dir: Path) -> pl.DataFrame:
    """The list the evaluation screens against: OFAC 2021 primary names plus one row per
    distinct Latin name of the EU transcriptions (entry ids `eu:<celex>:row<n>`), with
    the EU Cyrillic aliases in `eu_aliases` and the Latin ones in `eu_latin_aliases` (not part
    of the list)."""
    root = Path(shared_dir)
    parsed = ofac_sdn.parse((root / OFAC_SDN).read_bytes())
    ofac = _ofac_rows(parsed.entries)
    rows: dict[str, dict[str, Any]] = {}
    for relative in EU_FILES:
        path = root / relative
        if not path.exists():
            continue
        frame = pl.read_csv(path, infer_schema=False)
        celex = frame["celex"] if "celex" in frame.columns else frame["amendmentCelex"]
        for i, row in enumerate(frame.iter_rows(named=True)):
            kind = EU_SCHEMAS.get(row["schema"] or "")
            name = (row["name"] or "").strip()
            if not kind or not name or _CYRILLIC.search(name):
                continue
            key = " ".join(sorted(simple_tokens(name)))
            entry = rows.setdefault(
                key,
                {
                    "entry_id": f"eu:{celex[i]}:row{i + 1}",
                    "entity_type": kind,
                    "name": name,
                    "countries": [],
                    "source": "eu",
                    "eu_aliases": [],
                    "eu_latin_aliases": [],
                },
            )
            for alias in _eu_aliases(row["alias"]):
                if alias not in entry["eu_aliases"]:
                    entry["eu_aliases"].append(alias)
            for alias in _eu_latin_aliases(row["alias"]):
                if alias not in entry["eu_latin_aliases"] and alias != entry["name"]:
                    entry["eu_latin_aliases"].append(alias)
    eu = pl.DataFrame(list(rows.values()), schema=ofac.schema)
    return pl.concat([ofac, eu])


def eval_matcher(shared_dir: Path, config: MatchConfig | None = None) -> Matcher:
    """A Matcher over `load_eval_list` (primary names only: the aliases are the queries)."""
    return Matcher(load_eval_list(shared_dir), config=config, list_id="eval")


def _negative(query: Query, target: tuple[Any, ...], kind: str) -> dict[str, Any]:
    """One negative pair: a query (source, entity, name, entity_type, split, category) and a
    list entry."""
    source, entity, name, entity_type, split, category = query
    return {
        "source": source,
        "query_entity": entity,
        "name": name,
        "entry_id": target[0],
        "target_name": target[1],
        "entity_type": entity_type,
        "label": False,
        "pair_kind": kind,
        "split": split,
        "category": category,
        "alias_type": None,
    }


def _negatives(
    queries: list[Query],
    targets: pl.DataFrame,
    rng: random.Random,
) -> list[dict[str, Any]]:
    """Two negatives per query (source, entity, name, entity_type, split, category): a random
    entry of the same source sharing a token of 3+ letters, and the one sharing most (ties at
    random)."""
    index: dict[str, set[int]] = {}
    target_rows = targets.select("entry_id", "name").rows()
    target_source = targets["source"].to_list()
    target_print = [fingerprints.generate(name) or "" for _, name in target_rows]
    target_tokens = [simple_tokens(name) for _, name in target_rows]
    for i, tokens in enumerate(target_tokens):
        for token in tokens:
            if len(token) >= 3:
                index.setdefault(token, set()).add(i)
    position = {entry_id: i for i, (entry_id, _) in enumerate(target_rows)}
    target_key = [tuple(sorted(tokens)) for tokens in target_tokens]
    target_prefixes = [frozenset(t[:3] for t in tokens) for tokens in target_tokens]
    out: list[dict[str, Any]] = []
    for query in queries:
        source, entity, name = query[:3]
        tokens = simple_tokens(name)
        query_key = tuple(sorted(tokens))
        query_print = fingerprints.generate(name) or ""
        list_source = "ofac" if source.startswith("ofac") else "eu"
        own = position.get(entity)
        own_key = target_key[own] if own is not None else None
        shared: dict[int, int] = {}
        for token in set(tokens):
            if len(token) >= 3 and len(index.get(token, ())) < 2000:
                for i in index.get(token, ()):
                    shared[i] = shared.get(i, 0) + 1
        pool = sorted(
            i
            for i in shared
            if i != own
            and target_source[i] == list_source
            and target_print[i] != query_print
            and target_key[i] != query_key
            and target_key[i] != own_key
        )
        own_tokens = target_tokens[own] if own is not None else tokens
        query_prefixes = frozenset(t[:3] for t in tokens)
        own_prefixes = frozenset(t[:3] for t in own_tokens)
        namesakes = [
            i
            for i in pool
            if _is_variant_with(tokens, query_prefixes, target_tokens[i], target_prefixes[i])
            or _is_variant_with(own_tokens, own_prefixes, target_tokens[i], target_prefixes[i])
        ]
        if namesakes:
            out.append(_negative(query, target_rows[rng.choice(namesakes)], "namesake"))
        excluded = set(namesakes)
        pool = [i for i in pool if i not in excluded]
        if not pool:
            continue
        most = max(shared[i] for i in pool)
        hardest = [i for i in pool if shared[i] == most]
        out.append(_negative(query, target_rows[rng.choice(pool)], "random_negative"))
        out.append(_negative(query, target_rows[rng.choice(hardest)], "hard_negative"))
    return out


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def load_recent_list(shared_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The 2024-05-03 SDN primary names (with countries from the 2026 addresses) in the shape
    of `load_eval_list`, and the strong 2026 aliases of its Russian organisations (module
    docstring) other than their own primary name: entry_id, alias, alias_type, name,
    entity_type."""
    root = Path(shared_dir)
    parsed = ofac_sdn.parse(
        _read(root / OFAC_RECENT_SDN), _read(root / OFAC_RECENT_ALT), _read(root / OFAC_RECENT_ADD)
    )
    entries = _ofac_rows(parsed.entries)
    russian_program = (
        pl.col("programs").list.eval(pl.element().str.contains(RUSSIA_PROGRAMS.pattern)).list.any()
    )
    russian = parsed.entries.filter(
        (pl.col("entity_type") == "entity")
        & (
            pl.col("countries").list.contains("RU")
            | ((pl.col("countries").list.len() == 0) & russian_program)
        )
    )
    aliases = (
        parsed.aliases.filter(pl.col("quality") == "strong")
        .join(russian.select("entry_id", "name", "entity_type"), on="entry_id")
        .filter(
            pl.col("alias").str.strip_chars().str.to_lowercase()
            != pl.col("name").str.strip_chars().str.to_lowercase()
        )
        .select("entry_id", "alias", "alias_type", "name", "entity_type")
    )
    return entries, aliases


def _eu_latin_aliases(alias: str | None) -> list[str]:
    """Latin alias strings of one EU row (the counterpart of `_eu_aliases`)."""
    found: list[str] = []
    for item in re.split(r";| / ", alias or ""):
        item = item.strip().strip("‘’'\"“”«» ")
        if item and not _CYRILLIC.search(item) and simple_tokens(item):
            found.append(item)
    return found


Query = tuple[str, str, str, str, str, str]  # source, entity, name, entity_type, split, category


def _pairs(
    rows: Iterable[tuple[str, str, str, str, str, str | None]],
    targets: pl.DataFrame,
    include_non_variants: bool,
) -> pl.DataFrame:
    """Positives for (source, entity, alias, name, entity_type, alias_type) rows and their
    negatives from `targets`. The variant queries draw their negatives first, with the seed
    the set has always used, so the headline pairs do not depend on the other categories."""
    positives: list[dict[str, Any]] = []
    queries: list[Query] = []
    others: list[Query] = []
    for source, entity, query, target, etype, alias_type in rows:
        split = _split_of(f"{'ofac_alias' if source.startswith('ofac') else source}:{entity}")
        category = classify_alias(query, target, alias_type)
        variant = category in HEADLINE_CATEGORIES
        if not variant and not include_non_variants:
            continue
        positives.append(
            {
                "source": source,
                "query_entity": entity,
                "name": query,
                "entry_id": entity,
                "target_name": target,
                "entity_type": etype,
                "label": True,
                "pair_kind": "variant" if variant else "other_name",
                "split": split,
                "category": category,
                "alias_type": alias_type,
            }
        )
        (queries if variant else others).append((source, entity, query, etype, split, category))
    negatives = _negatives(queries, targets, random.Random(SEED))
    negatives += _negatives(others, targets, random.Random(SEED + 1))
    frame = pl.DataFrame(positives + negatives, schema=EVAL_SCHEMA)
    return frame.unique(["name", "entry_id"], keep="first", maintain_order=True)


def build_eval_set(
    shared_dir: Path, include_non_variants: bool = False, recent: bool | None = None
) -> pl.DataFrame:
    """The labelled pairs (columns of `EVAL_SCHEMA`), deterministic for a given shared dir.

    By default the headline set: variant / transliteration pairs of the 2021 OFAC aliases and
    the EU Cyrillic aliases. With `include_non_variants`, every other alias is added as a
    positive of kind `other_name` with its own negatives, the EU Latin aliases (`eu_latin`)
    too, and (unless `recent` is False) the Russian organisations of `load_recent_list`
    (`ofac_ru_2026`, every category).
    """
    root = Path(shared_dir)
    targets = load_eval_list(root)
    rows: list[tuple[str, str, str, str, str, str | None]] = []
    ofac = ofac_sdn.parse((root / OFAC_SDN).read_bytes(), (root / OFAC_ALT).read_bytes())
    strong = ofac.aliases.filter(pl.col("quality") == "strong").join(
        ofac.entries.select("entry_id", "name", "entity_type"), on="entry_id"
    )
    for entry_id, alias, name, etype, alias_type in strong.select(
        "entry_id", "alias", "name", "entity_type", "alias_type"
    ).iter_rows():
        if alias.strip().casefold() != name.strip().casefold():
            rows.append(("ofac_alias", entry_id, alias, name, etype, alias_type))
    eu = targets.filter(pl.col("source") == "eu")
    for entry_id, name, etype, aliases in eu.select(
        "entry_id", "name", "entity_type", "eu_aliases"
    ).iter_rows():
        for alias in aliases:
            rows.append(("eu_cyrillic", entry_id, alias, name, etype, None))
    if include_non_variants:
        for entry_id, name, etype, aliases in eu.select(
            "entry_id", "name", "entity_type", "eu_latin_aliases"
        ).iter_rows():
            for alias in aliases:
                if sorted(simple_tokens(alias)) != sorted(simple_tokens(name)):
                    rows.append(("eu_latin", entry_id, alias, name, etype, None))
    frame = _pairs(rows, targets, include_non_variants)
    if include_non_variants and recent is not False:
        recent_targets, recent_aliases = load_recent_list(root)
        recent_rows = [
            (RECENT_SOURCE, entry_id, alias, name, etype, alias_type)
            for entry_id, alias, alias_type, name, etype in recent_aliases.iter_rows()
        ]
        frame = pl.concat([frame, _pairs(recent_rows, recent_targets, True)])
    return frame


def metrics(scores: Iterable[float], labels: Iterable[bool], threshold: float) -> dict[str, Any]:
    """Precision, recall and F1 of `score >= threshold` against `labels`."""
    tp = fp = fn = tn = 0
    for score, label in zip(scores, labels, strict=True):
        predicted = score >= threshold
        if predicted and label:
            tp += 1
        elif predicted:
            fp += 1
        elif label:
            fn += 1
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "threshold": threshold,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "pairs": tp + fp + fn + tn,
    }


def matcher_scores(matcher: Matcher, eval_set: pl.DataFrame) -> pl.Series:
    """The matcher's score for each pair of `eval_set` (name only: no identifiers, countries)."""
    scored = matcher.score_pairs(eval_set.select("name", "entry_id"), explain=False)
    return scored["score"]


def baseline_scores(eval_set: pl.DataFrame) -> pl.Series:
    """rapidfuzz token_sort_ratio over `fingerprints.generate` forms, in 0..1."""
    left = [fingerprints.generate(n) or "" for n in eval_set["name"]]
    right = [fingerprints.generate(n) or "" for n in eval_set["target_name"]]
    sims = process.cpdist(left, right, scorer=fuzz.token_sort_ratio, workers=-1)
    return pl.Series("baseline", sims, dtype=pl.Float64) / 100


def evaluate(matcher: Matcher, eval_set: pl.DataFrame, threshold: float) -> dict[str, Any]:
    """Precision, recall and F1 of the matcher on `eval_set` at `threshold`."""
    return metrics(matcher_scores(matcher, eval_set), eval_set["label"], threshold)


def evaluate_baseline(eval_set: pl.DataFrame, threshold: float) -> dict[str, Any]:
    """Precision, recall and F1 of the baseline on `eval_set` at `threshold`."""
    return metrics(baseline_scores(eval_set), eval_set["label"], threshold)


def best_threshold(scores: pl.Series, labels: pl.Series, steps: Sequence[float]) -> float:
    """The threshold of `steps` with the highest F1 (ties: the higher threshold)."""
    results = [metrics(scores, labels, t) for t in steps]
    return max(results, key=lambda r: (r["f1"], r["threshold"]))["threshold"]


SWEEP = tuple(round(0.5 + 0.02 * i, 2) for i in range(25))


def _category_metrics(frame: pl.DataFrame, threshold: float, baseline: float) -> dict[str, Any]:
    return {
        "positives": int(frame["label"].sum()),
        "negatives": int((~frame["label"]).sum()),
        "matcher": metrics(frame["score"], frame["label"], threshold),
        "baseline": metrics(frame["baseline"], frame["label"], baseline),
    }


POPULATIONS = {
    "ofac2021+eu": ("ofac_alias", "eu_cyrillic", "eu_latin"),
    RECENT_SOURCE: (RECENT_SOURCE,),
}


def screening_eval(matcher: Matcher, eval_set: pl.DataFrame) -> pl.DataFrame:
    """Screen every positive query of `RECENT_SOURCE` against `matcher` (the 2024 primary
    names) with `screen(top=1)`: one row per query with the top candidate, `predicted` (its
    decision is `match`) and `correct` (predicted, and the query's own entry)."""
    queries = eval_set.filter(pl.col("label") & (pl.col("source") == RECENT_SOURCE)).select(
        "name", "entry_id", "category", "split"
    )
    top = matcher.screen(queries.select("name"), top=1).select(
        pl.col("query_row").cast(pl.Int64),
        pl.col("entry_id").alias("top_entry"),
        pl.col("decision").alias("top_decision"),
        pl.col("score").alias("top_score"),
    )
    return (
        queries.with_row_index("query_row")
        .with_columns(pl.col("query_row").cast(pl.Int64))
        .join(top, on="query_row", how="left")
        .with_columns(pl.col("top_decision").fill_null("no_match"))
        .with_columns(predicted=pl.col("top_decision") == "match")
        .with_columns(correct=pl.col("predicted") & (pl.col("top_entry") == pl.col("entry_id")))
    )


def screening_metrics(screened: pl.DataFrame) -> dict[str, Any]:
    """Precision = correct / predicted matches, recall = correct / queries."""
    queries = screened.height
    predicted = int(screened["predicted"].sum())
    correct = int(screened["correct"].sum())
    precision = correct / predicted if predicted else 1.0
    recall = correct / queries if queries else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "queries": queries,
        "predicted": predicted,
        "correct": correct,
        "wrong_entry": predicted - correct,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def report(shared_dir: Path, config: MatchConfig | None = None) -> dict[str, Any]:
    """Every figure the README quotes: set sizes, the headline (variant pairs, as before) for
    the matcher and the baseline on dev and test, the same per alias category
    (`per_category[split][population][category]`, with an `all` row), and the screening-style
    figures for the Russian organisations (`screening[split][category]`)."""
    config = config or MatchConfig()
    full = build_eval_set(shared_dir, include_non_variants=True)
    matcher = eval_matcher(shared_dir, config)
    recent_targets, _ = load_recent_list(shared_dir)
    recent_matcher = Matcher(recent_targets, config=config, list_id="eval_recent")
    is_recent = pl.col("source") == RECENT_SOURCE
    parts = [full.filter(~is_recent), full.filter(is_recent)]
    scored = pl.concat(
        [
            part.with_columns(matcher_scores(m, part).alias("score"), baseline_scores(part))
            for part, m in zip(parts, (matcher, recent_matcher), strict=True)
        ]
    )
    scored_headline = scored.filter(
        pl.col("source").is_in(HEADLINE_SOURCES) & pl.col("category").is_in(HEADLINE_CATEGORIES)
    )
    headline = scored_headline.filter(pl.col("pair_kind") != "namesake")
    dev = headline.filter(pl.col("split") == "dev")
    test = headline.filter(pl.col("split") == "test")
    namesakes = scored_headline.filter(
        (pl.col("pair_kind") == "namesake") & (pl.col("split") == "test")
    )
    baseline_threshold = best_threshold(dev["baseline"], dev["label"], SWEEP)
    # The per-category baseline threshold is tuned on dev over every category (a screening
    # system does not know the category of a query).
    categorised = scored.filter(pl.col("pair_kind") != "namesake")
    all_dev = categorised.filter(pl.col("split") == "dev")
    category_baseline = best_threshold(all_dev["baseline"], all_dev["label"], SWEEP)
    per_category: dict[str, dict[str, dict[str, Any]]] = {}
    for split in ("dev", "test"):
        per_category[split] = {}
        for population, sources in POPULATIONS.items():
            rows = categorised.filter((pl.col("split") == split) & pl.col("source").is_in(sources))
            figures = {
                category: _category_metrics(
                    rows.filter(pl.col("category") == category),
                    config.match_threshold,
                    category_baseline,
                )
                for category in CATEGORIES
                if rows.filter(pl.col("category") == category).height
            }
            figures["all"] = _category_metrics(rows, config.match_threshold, category_baseline)
            per_category[split][population] = figures
    screened = screening_eval(recent_matcher, full)
    screening = {
        split: {
            **{
                category: screening_metrics(
                    screened.filter((pl.col("split") == split) & (pl.col("category") == category))
                )
                for category in CATEGORIES
                if screened.filter(pl.col("category") == category).height
            },
            "all": screening_metrics(screened.filter(pl.col("split") == split)),
        }
        for split in ("dev", "test")
    }
    return {
        "scored": scored,
        "sizes": scored.group_by("split", "source", "label").len().sort("split", "source", "label"),
        "threshold": config.match_threshold,
        "dev": metrics(dev["score"], dev["label"], config.match_threshold),
        "test": metrics(test["score"], test["label"], config.match_threshold),
        "baseline_threshold": baseline_threshold,
        "baseline_dev": metrics(dev["baseline"], dev["label"], baseline_threshold),
        "baseline_test": metrics(test["baseline"], test["label"], baseline_threshold),
        "namesakes_test": {
            "pairs": namesakes.height,
            "matcher_flagged": int((namesakes["score"] >= config.match_threshold).sum()),
            "baseline_flagged": int((namesakes["baseline"] >= baseline_threshold).sum()),
        },
        "sweep": [
            (
                t,
                metrics(test["score"], test["label"], t),
                metrics(test["baseline"], test["label"], t),
            )
            for t in SWEEP
        ],
        "category_baseline_threshold": category_baseline,
        "per_category": per_category,
        "screened": screened,
        "screening": screening,
    }


def category_table(figures: dict[str, dict[str, Any]]) -> str:
    """A markdown table of one split and population of `report()["per_category"]`."""
    lines = [
        "| category | pairs (pos/neg) | matcher P | R | F1 | baseline P | R | F1 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for category, f in figures.items():
        m, b = f["matcher"], f["baseline"]
        lines.append(
            f"| {category} | {f['positives']}/{f['negatives']} | {m['precision']:.3f} |"
            f" {m['recall']:.3f} | {m['f1']:.3f} | {b['precision']:.3f} | {b['recall']:.3f} |"
            f" {b['f1']:.3f} |"
        )
    return "\n".join(lines)


def screening_table(figures: dict[str, dict[str, Any]]) -> str:
    """A markdown table of one split of `report()["screening"]`."""
    lines = [
        "| category | queries | predicted match | correct | wrong entry | P | R | F1 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for category, f in figures.items():
        lines.append(
            f"| {category} | {f['queries']} | {f['predicted']} | {f['correct']} |"
            f" {f['wrong_entry']} | {f['precision']:.3f} | {f['recall']:.3f} | {f['f1']:.3f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared/ folder")
    parser.add_argument("--errors", type=int, default=0, help="print this many errors per kind")
    parser.add_argument(
        "--split", choices=("dev", "test", "both"), default="both", help="category tables"
    )
    args = parser.parse_args(argv)
    if not (args.shared / OFAC_SDN).exists():
        print(f"{args.shared / OFAC_SDN} not found: evaluation set unavailable")
        return 1
    started = time.perf_counter()
    result = report(args.shared)
    with pl.Config(tbl_rows=20):
        print(result["sizes"])

    def line(label: str, m: dict[str, Any]) -> str:
        return (
            f"{label:<34} P={m['precision']:.4f} R={m['recall']:.4f} F1={m['f1']:.4f}"
            f"  (tp={m['tp']} fp={m['fp']} fn={m['fn']} tn={m['tn']})"
        )

    print("\nheadline (variant and transliteration pairs of ofac_alias and eu_cyrillic):")
    print(line(f"matcher dev  @ {result['threshold']:.2f}", result["dev"]))
    print(line(f"matcher test @ {result['threshold']:.2f}", result["test"]))
    print(line(f"baseline dev  @ {result['baseline_threshold']:.2f}", result["baseline_dev"]))
    print(line(f"baseline test @ {result['baseline_threshold']:.2f}", result["baseline_test"]))
    ns = result["namesakes_test"]
    print(
        f"namesake pairs (test, not in the figures above): {ns['pairs']}, scored as matches by"
        f" the matcher: {ns['matcher_flagged']}, by the baseline: {ns['baseline_flagged']}"
    )
    print("\nthreshold sweep on test:   matcher P / R / F1      baseline P / R / F1")
    for t, mine, base in result["sweep"]:
        print(
            f"  {t:.2f}   {mine['precision']:.3f} / {mine['recall']:.3f} / {mine['f1']:.3f}"
            f"      {base['precision']:.3f} / {base['recall']:.3f} / {base['f1']:.3f}"
        )
    splits = ("dev", "test") if args.split == "both" else (args.split,)
    for split in splits:
        for population, figures in result["per_category"][split].items():
            print(
                f"\n### {split}: {population} (matcher @ {result['threshold']:.2f}, baseline @"
                f" {result['category_baseline_threshold']:.2f}, best F1 on dev over all"
                " categories; namesakes left out)\n"
            )
            print(category_table(figures))
    for split in splits:
        print(
            f"\n### {split}: screening {RECENT_SOURCE} aliases against the 2024-05-03 primary"
            " names (top 1; P = correct / predicted matches, R = correct / queries)\n"
        )
        print(screening_table(result["screening"][split]))
    if args.errors:
        scored = result["scored"].filter(
            (pl.col("split") == "dev") & (pl.col("pair_kind") != "namesake")
        )
        t = result["threshold"]
        with pl.Config(fmt_str_lengths=70, tbl_rows=args.errors * 2, tbl_width_chars=220):
            print("false negatives (dev):")
            print(
                scored.filter(pl.col("label") & (pl.col("score") < t))
                .sample(min(args.errors, scored.height), seed=SEED, shuffle=True)
                .select("source", "name", "target_name", "score", "baseline")
            )
            print("false positives (dev):")
            fps = scored.filter(~pl.col("label") & (pl.col("score") >= t))
            print(
                fps.head(args.errors).select("source", "name", "target_name", "score", "baseline")
            )
            print("screening: wrong entry chosen (dev):")
            screened = result["screened"].filter(
                (pl.col("split") == "dev") & pl.col("predicted") & ~pl.col("correct")
            )
            print(screened.head(args.errors).select("category", "name", "entry_id", "top_entry"))
    print(f"\nevaluation took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
