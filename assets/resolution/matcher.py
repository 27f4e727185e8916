"""Screening of counterparty names and identifiers against one sanctions list.

`Matcher` is built from the list model's frames (entries, aliases, identifiers). Rules:

1. Identifiers. A query's RU INN / OGRN that passes its check (python-stdnum) and equals a
   valid list identifier is an identifier match: score 1, decision `match`, ranked above every
   name match. An identifier failing its check is kept, flagged in the explanation and never
   joined. A valid identifier that differs from the candidate's valid identifier of the same
   scheme counts strongly against the name match, which can then never be a `match`.
2. Names. Candidates are blocked on tokens, joined adjacent tokens and metaphone keys (keys
   found in too many entries are ignored), then scored over every romanization of both names:
   token overlap weighted by each token's rarity in the list (legal forms are left out, generic
   words weigh little) blended with rapidfuzz whole-string similarity. A weak alias alone is
   never an alert (`no_match`, score capped); a short name is damped unless it matches exactly.
3. Countries support (same) or oppose (disjoint) a name match.

`screen` is vectorised (polars joins plus rapidfuzz `cpdist`); `match` screens one `Query`;
`score_pairs` scores given (query, entry) pairs without blocking, for evaluation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler, Levenshtein
from rigour.text import metaphone
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

from assets.resolution.names import NameForms, normalize, skeleton
from assets.sanctions.countries import to_iso2

DECISIONS = ("match", "possible", "no_match")
NAME_KINDS = ("primary", "alias", "weak_alias")
_KIND_RANK = {kind: rank for rank, kind in enumerate(NAME_KINDS)}
_KIND_LABEL = {"primary": "primary name", "alias": "alias", "weak_alias": "weak alias"}
_VALIDATORS = {"RU_INN": ru_inn.is_valid, "RU_OGRN": ru_ogrn.is_valid}
TOKEN_SCORERS: dict[str, Any] = {
    "jaro_winkler": JaroWinkler.normalized_similarity,
    "ratio": fuzz.ratio,
}


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds and weights of the matcher (load from YAML with `from_mapping`)."""

    # Tuned on the dev split of the evaluation set (see evaluation.py and the README).
    match_threshold: float = 0.81
    possible_threshold: float = 0.7
    # Token similarity: "jaro_winkler" (rewards a common start) or "ratio" (Levenshtein).
    # Token pairs less similar than the floor count as unmatched; two tokens both of up to
    # `exact_token_length` characters, or tokens with digits, must be equal.
    token_scorer: str = "jaro_winkler"
    token_similarity_floor: float = 0.85
    # Jaro-Winkler overrates a shared start ("asma"/"asad", "balito"/"bai"): a pair also needs
    # this normalized Levenshtein similarity (0..1) to count.
    token_min_ratio: float = 0.55
    exact_token_length: int = 3
    # Tokens with one metaphone code (4+ letters) are at least this similar.
    phonetic_similarity: float = 0.85
    # Weight of a one-letter token (an initial) relative to its rarity weight.
    initial_weight: float = 0.25
    # Share of the rarity-weighted token overlap in the name score (the rest: string similarity).
    token_weight: float = 0.8
    # Share of the better one-sided coverage in the token overlap (the rest: both sides
    # together): a name whose every token is in the other scores high (missing middle names).
    subset_weight: float = 0.7
    # The one-sided credit shrinks for a side whose total rarity weight is below this share of
    # one unseen token's weight: "A INVEST" inside "INVEST STANKO" is not a subset match.
    subset_min_weight: float = 0.85
    # A non-exact match involving a name less distinctive than this (NameForms.weight) is
    # multiplied by 1 - short_name_damping.
    short_name_weight: float = 0.5
    short_name_damping: float = 0.15
    country_bonus: float = 0.03
    country_penalty: float = 0.1
    identifier_conflict_penalty: float = 0.5
    # A weak alias alone scores at most this and is always `no_match` (reported, never an
    # alert); a weak alias matching as well as a stronger name adds `weak_alias_support`.
    weak_alias_cap: float = 0.6
    weak_alias_support: float = 0.02
    # Blocking: names scored per query, and keys too frequent to block on.
    max_candidates: int = 20
    max_key_frequency: int = 100
    # Candidates below this score are not reported by `screen` / `match`.
    min_report_score: float = 0.5
    # Queries per vectorised batch (bounds memory).
    batch_size: int = 20_000

    def __post_init__(self) -> None:
        if not 0 <= self.possible_threshold <= self.match_threshold <= 1:
            raise ValueError("need 0 <= possible_threshold <= match_threshold <= 1")
        for name in (
            "token_weight",
            "subset_weight",
            "phonetic_similarity",
            "initial_weight",
            "token_min_ratio",
            "subset_min_weight",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in 0..1")
        if self.token_scorer not in TOKEN_SCORERS:
            raise ValueError(f"token_scorer must be one of {', '.join(TOKEN_SCORERS)}")
        if self.max_candidates < 1 or self.batch_size < 1:
            raise ValueError("max_candidates and batch_size must be positive")

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


@dataclass(frozen=True)
class Query:
    """One counterparty to screen."""

    name: str
    inn: str | None = None
    ogrn: str | None = None
    identifier: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Candidate:
    """One list entry found for a query, with its score, decision and reasons."""

    list_id: str
    entry_id: str
    matched_name: str
    matched_name_kind: str
    score: float
    decision: str
    explanation: str
    features: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryIdentifier:
    """An identifier given with a query: scheme, compact value and check-digit verdict."""

    scheme: str
    value: str
    is_valid: bool | None


def parse_identifiers(
    inn: str | None = None, ogrn: str | None = None, identifier: str | None = None
) -> list[QueryIdentifier]:
    """Identifiers of a query. A generic `identifier` gets its scheme from its length
    (10 or 12 digits: RU_INN; 13 or 15: RU_OGRN; anything else: OTHER, never joined)."""
    found: list[QueryIdentifier] = []
    for scheme, raw in (("RU_INN", inn), ("RU_OGRN", ogrn), (None, identifier)):
        value = "".join(str(raw or "").split())
        if not value or value.lower() in ("none", "nan", "null"):
            continue
        if scheme is None:
            digits = value.isdigit()
            if digits and len(value) in (10, 12):
                scheme = "RU_INN"
            elif digits and len(value) in (13, 15):
                scheme = "RU_OGRN"
            else:
                scheme = "OTHER"
        validator = _VALIDATORS.get(scheme)
        found.append(QueryIdentifier(scheme, value, validator(value) if validator else None))
    return found


def blocking_keys(variant: tuple[str, ...], raw: tuple[str, ...]) -> set[str]:
    """Blocking keys of one variant (skeleton tokens and the Latin tokens they came from):
    tokens, joined neighbours, metaphones and the whole compact name. Joined forms are
    skeletons of the joined Latin text ("invest"+"stanko" and "investstanko" agree)."""
    keys = {"t:" + t for t in variant}
    keys.update("t:" + skeleton(a + b) for a, b in pairwise(raw))
    keys.update("m:" + metaphone(t) for t in variant if len(t) >= 4 and t.isalpha())
    keys.add("f:" + skeleton("".join(raw)))
    return keys


def _iso2(country: str | None) -> str | None:
    text = str(country or "").strip()
    if not text:
        return None
    return text.upper() if len(text) == 2 and text.isalpha() else to_iso2(text)


_SCORED_SCHEMA: dict[str, pl.DataType] = {
    "qid": pl.UInt32(),
    "name_id": pl.UInt32(),
    "qvid": pl.UInt32(),
    "vid": pl.UInt32(),
    "name_score": pl.Float64(),
    "token_score": pl.Float64(),
    "string_score": pl.Float64(),
    "exact": pl.Boolean(),
}
RESULT_COLUMNS = (
    "query_row",
    "query_name",
    "list_id",
    "entry_id",
    "matched_name",
    "matched_name_kind",
    "score",
    "decision",
    "explanation",
    "features",
)


class Matcher:
    """Screens queries against one list given in the normalized list model."""

    def __init__(
        self,
        entries: pl.DataFrame,
        aliases: pl.DataFrame | None = None,
        identifiers: pl.DataFrame | None = None,
        config: MatchConfig | None = None,
        list_id: str = "sanctions",
    ) -> None:
        self.config = config or MatchConfig()
        self.list_id = list_id
        ids = entries["entry_id"].cast(pl.String).to_list()
        countries = (
            entries["countries"].to_list() if "countries" in entries.columns else [[]] * len(ids)
        )
        self._entry_name = dict(zip(ids, entries["name"].to_list(), strict=True))
        self._entries = pl.DataFrame(
            {"entry_id": ids, "countries": [sorted(c or []) for c in countries]},
            schema={"entry_id": pl.String, "countries": pl.List(pl.String)},
        )
        names: dict[tuple[str, str], str] = {
            (entry_id, name): "primary" for entry_id, name in self._entry_name.items() if name
        }
        if aliases is not None and aliases.height:
            quality = (
                aliases["quality"].to_list()
                if "quality" in aliases.columns
                else [None] * aliases.height
            )
            rows = zip(
                aliases["entry_id"].cast(pl.String).to_list(),
                aliases["alias"].to_list(),
                quality,
                strict=True,
            )
            for entry_id, alias, alias_quality in rows:
                if not alias or entry_id not in self._entry_name:
                    continue
                kind = "weak_alias" if alias_quality == "weak" else "alias"
                previous = names.get((entry_id, alias))
                if previous is None or _KIND_RANK[kind] < _KIND_RANK[previous]:
                    names[(entry_id, alias)] = kind
        self._build_name_index(names)
        self._build_identifier_index(identifiers)
        self._query_ids: dict[int, list[QueryIdentifier]] = {}

    # ----------------------------------------------------------------------------- index
    def _build_name_index(self, names: dict[tuple[str, str], str]) -> None:
        self._forms: list[NameForms] = []
        name_rows: list[tuple[Any, ...]] = []
        variant_rows: list[tuple[Any, ...]] = []
        token_entries: dict[str, set[str]] = {}
        key_entries: dict[str, set[str]] = {}
        name_keys: list[set[str]] = []
        for (entry_id, name), kind in names.items():
            forms = normalize(name)
            if forms.is_empty:
                continue
            name_id = len(self._forms)
            self._forms.append(forms)
            name_rows.append((name_id, entry_id, name, kind, forms.weight))
            keys: set[str] = set()
            for variant, raw in zip(forms.variants, forms.raw_variants, strict=True):
                variant_rows.append(
                    (len(variant_rows), name_id, list(variant), " ".join(sorted(variant)),
                     skeleton("".join(raw)))
                )  # fmt: skip
                for token in variant:
                    token_entries.setdefault(token, set()).add(entry_id)
                keys |= blocking_keys(variant, raw)
            name_keys.append(keys)
            for key in keys:
                key_entries.setdefault(key, set()).add(entry_id)

        self._n_entries = max(1, len(self._entry_name))
        self._weights = {token: self._idf(len(ids)) for token, ids in token_entries.items()}
        self._idf_unknown = self._idf(1)
        self._names = pl.DataFrame(
            name_rows,
            schema={
                "name_id": pl.UInt32,
                "entry_id": pl.String,
                "name": pl.String,
                "kind": pl.String,
                "cweight": pl.Float64,
            },
            orient="row",
        )
        self._variants = pl.DataFrame(
            variant_rows,
            schema={
                "vid": pl.UInt32,
                "name_id": pl.UInt32,
                "ctokens": pl.List(pl.String),
                "cjoined": pl.String,
                "ccompact": pl.String,
            },
            orient="row",
        )
        self._vtokens = self._explode_tokens(self._variants, "vid", "ctokens", "cpos", "ctok", "cw")
        self._vocab: dict[str, int] = {}
        self._vocab_tokens: list[str] = []
        self._vocab_length: list[int] = []
        self._vocab_digit: list[bool] = []
        self._vocab_code: list[int] = []
        self._codes: dict[str, int] = {"": 0}
        token_lists = [row[2] for row in variant_rows]
        self._c_start, self._c_len, self._c_ids, self._c_w = self._csr(token_lists)
        self._cjoined = np.array([row[3] for row in variant_rows] or [""], dtype=object)
        self._ccompact = np.array([row[4] for row in variant_rows] or [""], dtype=object)
        limit = self.config.max_key_frequency
        key_weight = {
            key: self._idf(len(ids))
            for key, ids in key_entries.items()
            if len(ids) <= limit or key.startswith("f:")
        }
        self._keys = pl.DataFrame(
            [
                (key, name_id)
                for name_id, keys in enumerate(name_keys)
                for key in keys
                if key in key_weight
            ],
            schema={"key": pl.String, "name_id": pl.UInt32},
            orient="row",
        ).with_columns(
            pl.col("key").replace_strict(key_weight, return_dtype=pl.Float64).alias("kw")
        )
        self._entry_names = self._names.group_by("entry_id").agg("name_id")

    def _build_identifier_index(self, identifiers: pl.DataFrame | None) -> None:
        self._by_identifier: dict[tuple[str, str], set[str]] = {}
        self._entry_identifiers: dict[str, dict[str, set[str]]] = {}
        if identifiers is None or not identifiers.height:
            return
        valid = identifiers.filter(
            pl.col("is_valid").fill_null(False) & pl.col("scheme").is_in(list(_VALIDATORS))
        )
        for entry_id, scheme, value in valid.select("entry_id", "scheme", "value").iter_rows():
            compact = "".join(str(value).split())
            self._by_identifier.setdefault((scheme, compact), set()).add(str(entry_id))
            per_entry = self._entry_identifiers.setdefault(str(entry_id), {})
            per_entry.setdefault(scheme, set()).add(compact)

    def _idf(self, df: int) -> float:
        return math.log(1 + self._n_entries / df)

    def token_weight(self, token: str) -> float:
        """Rarity weight (idf over list entries) of a skeleton token; unknown tokens weigh most."""
        return self._weights.get(token, self._idf_unknown)

    def _explode_tokens(
        self, frame: pl.DataFrame, vid: str, tokens: str, pos: str, token: str, weight: str
    ) -> pl.DataFrame:
        return (
            frame.select(vid, tokens)
            .with_columns(
                pl.int_ranges(pl.col(tokens).list.len()).cast(pl.List(pl.UInt32)).alias(pos)
            )
            .explode(tokens, pos)
            .rename({tokens: token})
            .with_columns(
                pl.col(token)
                .replace_strict(self._weights, default=self._idf_unknown, return_dtype=pl.Float64)
                .alias(weight)
            )
            .with_columns(
                pl.when(pl.col(token).str.len_chars() == 1)
                .then(pl.col(weight) * self.config.initial_weight)
                .otherwise(pl.col(weight))
                .alias(weight)
            )
        )

    @property
    def entries_count(self) -> int:
        return self._n_entries

    @property
    def names_count(self) -> int:
        return self._names.height

    # --------------------------------------------------------------------------- queries
    def _prepare(self, queries: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(query info, query variants, query variant tokens) with qid = row position."""
        if "name" not in queries.columns:
            raise ValueError("queries need a `name` column")
        height = queries.height

        def column(name: str) -> list[Any]:
            if name not in queries.columns:
                return [None] * height
            return queries[name].cast(pl.String).to_list()

        names, inns, ogrns, others, countries = (
            column(c) for c in ("name", "inn", "ogrn", "identifier", "country")
        )
        info_rows: list[tuple[Any, ...]] = []
        variant_rows: list[tuple[Any, ...]] = []
        self._query_ids = {}
        for qid in range(height):
            name = names[qid] or ""
            forms = normalize(name)
            info_rows.append((qid, name, forms.weight, forms.legal_form, _iso2(countries[qid])))
            for variant, raw in zip(forms.variants, forms.raw_variants, strict=True):
                variant_rows.append(
                    (len(variant_rows), qid, list(variant), " ".join(sorted(variant)),
                     skeleton("".join(raw)), list(raw))
                )  # fmt: skip
            if inns[qid] or ogrns[qid] or others[qid]:
                self._query_ids[qid] = parse_identifiers(inns[qid], ogrns[qid], others[qid])
        qinfo = pl.DataFrame(
            info_rows,
            schema={
                "qid": pl.UInt32,
                "qname": pl.String,
                "qweight": pl.Float64,
                "qlegal": pl.String,
                "qcountry": pl.String,
            },
            orient="row",
        )
        columns = ("qvid", "qid", "qtokens", "qjoined", "qcompact", "qraw")
        qvariants = pl.DataFrame(
            {name: [row[i] for row in variant_rows] for i, name in enumerate(columns)},
            schema={
                "qvid": pl.UInt32,
                "qid": pl.UInt32,
                "qtokens": pl.List(pl.String),
                "qjoined": pl.String,
                "qcompact": pl.String,
                "qraw": pl.List(pl.String),
            },
        )
        qtokens = self._explode_tokens(qvariants, "qvid", "qtokens", "qpos", "qtok", "qw")
        return qinfo, qvariants, qtokens

    def _identifier_facts(self) -> pl.DataFrame:
        """(qid, entry_id, id_match, id_conflict) for every query-entry pair related by a
        valid query identifier: equal (a match) or different in the same scheme (a conflict)."""
        rows: list[tuple[int, str, str | None, str | None]] = []
        for qid, idents in self._query_ids.items():
            for ident in idents:
                if not ident.is_valid:
                    continue
                for entry_id in self._by_identifier.get((ident.scheme, ident.value), ()):
                    rows.append((qid, entry_id, f"{ident.scheme} {ident.value}", None))
        return pl.DataFrame(
            rows,
            schema={
                "qid": pl.UInt32,
                "entry_id": pl.String,
                "id_match": pl.String,
                "id_conflict": pl.String,
            },
            orient="row",
        )

    def _block(self, qvariants: pl.DataFrame) -> pl.DataFrame:
        """(qid, name_id) candidate pairs: the names sharing the rarest keys with each query."""
        rows = [
            (qid, key)
            for qid, tokens, raw in qvariants.select("qid", "qtokens", "qraw").iter_rows()
            for key in blocking_keys(tuple(tokens), tuple(raw))
        ]
        qkeys = pl.DataFrame(rows, schema={"qid": pl.UInt32, "key": pl.String}, orient="row")
        return (
            qkeys.unique()
            .join(self._keys, on="key")
            .group_by("qid", "name_id")
            # rounded: a float sum depends on the order of its terms, which must not pick winners
            .agg(pl.col("kw").sum().round(9).alias("prescore"))
            # ties broken by name_id so that every run keeps the same candidates
            .sort(["qid", "prescore", "name_id"], descending=[False, True, False])
            .group_by("qid", maintain_order=True)
            .head(self.config.max_candidates)
            .select("qid", "name_id")
        )

    # --------------------------------------------------------------------------- scoring
    def _token_id(self, token: str) -> int:
        found = self._vocab.get(token)
        if found is not None:
            return found
        index = len(self._vocab_tokens)
        self._vocab[token] = index
        self._vocab_tokens.append(token)
        self._vocab_length.append(len(token))
        self._vocab_digit.append(any(ch.isdigit() for ch in token))
        code = metaphone(token) if len(token) >= 4 and token.isalpha() else ""
        self._vocab_code.append(self._codes.setdefault(code, len(self._codes)))
        return index

    def _csr(
        self, token_lists: list[list[str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(start, length, token ids, token weights) of token lists laid end to end."""
        length = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
        start = np.cumsum(length) - length
        flat = [token for tokens in token_lists for token in tokens]
        ids = np.fromiter((self._token_id(t) for t in flat), dtype=np.int64, count=len(flat))
        initial = self.config.initial_weight
        weights = np.fromiter(
            (self.token_weight(t) * (initial if len(t) == 1 else 1.0) for t in flat),
            dtype=np.float64,
            count=len(flat),
        )
        return start, length, ids, weights

    def _similarity(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Similarity (0..1) of token pairs given as vocabulary ids: Jaro-Winkler (or ratio)
        gated by Levenshtein, zero below the floor; tokens with one metaphone code at least
        `phonetic_similarity`; short tokens and tokens with digits 1 when equal, else 0."""
        cfg = self.config
        if not left.size:
            return np.zeros(0)
        size = len(self._vocab_tokens)
        unique, inverse = np.unique(left * size + right, return_inverse=True)
        uq, uc = unique // size, unique % size
        vocab = np.array(self._vocab_tokens, dtype=object)
        qs, cs = vocab[uq].tolist(), vocab[uc].tolist()
        if cfg.token_scorer == "ratio":
            sim = process.cpdist(qs, cs, scorer=fuzz.ratio, workers=-1) / 100
        else:
            sim = process.cpdist(qs, cs, scorer=TOKEN_SCORERS[cfg.token_scorer], workers=-1)
            edit = process.cpdist(qs, cs, scorer=Levenshtein.normalized_similarity, workers=-1)
            sim[edit < cfg.token_min_ratio] = 0.0
        length = np.asarray(self._vocab_length)
        digit = np.asarray(self._vocab_digit)
        code = np.asarray(self._vocab_code)
        strict = (
            digit[uq]
            | digit[uc]
            | ((length[uq] <= cfg.exact_token_length) & (length[uc] <= cfg.exact_token_length))
        )
        phonetic = (code[uq] == code[uc]) & (code[uq] > 0)
        result = np.where(sim >= cfg.token_similarity_floor, sim, 0.0)
        result = np.where(phonetic, np.maximum(sim, cfg.phonetic_similarity), result)
        result = np.where(strict, (uq == uc).astype(np.float64), result)
        return np.asarray(result[inverse].reshape(-1), dtype=np.float64)

    def _score_names(
        self, qvariants: pl.DataFrame, qtokens: pl.DataFrame, pairs: pl.DataFrame
    ) -> pl.DataFrame:
        """Best name score per (qid, name_id) over all pairs of romanization variants.

        Token alignment is done in numpy: for each variant pair every (query token, list
        token) pair is scored once per distinct pair, the best match of each token on each
        side is kept, and the rarity-weighted coverage of both sides is summed per pair.
        """
        cfg = self.config
        vp = pairs.join(qvariants.select("qvid", "qid"), on="qid").join(
            self._variants.select("vid", "name_id"), on="name_id"
        )
        if not vp.height:
            return pl.DataFrame(schema=_SCORED_SCHEMA)
        q_start, q_len, q_ids, q_w = self._csr(qvariants["qtokens"].to_list())
        qvid = vp["qvid"].to_numpy().astype(np.int64)
        vid = vp["vid"].to_numpy().astype(np.int64)
        count = len(qvid)
        ql, cl = q_len[qvid], self._c_len[vid]
        n = ql * cl
        pair = np.repeat(np.arange(count), n)
        k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        cl_pair = cl[pair]
        i = k // cl_pair
        j = k - i * cl_pair
        sim = self._similarity(
            q_ids[q_start[qvid][pair] + i], self._c_ids[self._c_start[vid][pair] + j]
        )
        # Query side: pairs are laid out (pair, i, j) with j fastest.
        runs = np.flatnonzero(j == 0)
        q_best = np.maximum.reduceat(sim, runs)
        weight = q_w[q_start[qvid][pair[runs]] + i[runs]]
        per_pair = np.flatnonzero(i[runs] == 0)
        qm = np.add.reduceat(weight * q_best, per_pair)
        qt = np.add.reduceat(weight, per_pair)
        # List side: scatter the best over i into (pair, j) slots.
        c_offset = np.cumsum(cl) - cl
        c_best = np.zeros(int(cl.sum()))
        np.maximum.at(c_best, c_offset[pair] + j, sim)
        c_pair = np.repeat(np.arange(count), cl)
        jj = np.arange(c_best.size) - c_offset[c_pair]
        c_weight = self._c_w[self._c_start[vid][c_pair] + jj]
        cm = np.add.reduceat(c_weight * c_best, c_offset)
        ct = np.add.reduceat(c_weight, c_offset)

        union = (qm + cm) / (qt + ct)
        floor = max(cfg.subset_min_weight * self._idf_unknown, 1e-9)
        one_side = np.maximum(
            qm / qt * np.minimum(1.0, qt / floor), cm / ct * np.minimum(1.0, ct / floor)
        )
        token_score = (1 - cfg.subset_weight) * union + cfg.subset_weight * one_side
        qjoined = np.array(qvariants["qjoined"].to_list(), dtype=object)[qvid]
        qcompact = np.array(qvariants["qcompact"].to_list(), dtype=object)[qvid]
        cjoined, ccompact = self._cjoined[vid], self._ccompact[vid]
        sort_sim = process.cpdist(
            qjoined.tolist(), cjoined.tolist(), scorer=fuzz.token_sort_ratio, workers=-1
        )
        compact_sim = process.cpdist(
            qcompact.tolist(), ccompact.tolist(), scorer=fuzz.ratio, workers=-1
        )
        string_score = np.maximum(sort_sim, compact_sim) / 100
        exact = (qjoined == cjoined) | (qcompact == ccompact)
        name_score = np.where(
            exact, 1.0, cfg.token_weight * token_score + (1 - cfg.token_weight) * string_score
        )
        return (
            vp.select("qid", "name_id", "qvid", "vid")
            .with_columns(
                pl.Series("name_score", name_score, dtype=pl.Float64),
                pl.Series("token_score", token_score, dtype=pl.Float64),
                pl.Series("string_score", string_score, dtype=pl.Float64),
                pl.Series("exact", exact.astype(bool), dtype=pl.Boolean),
            )
            .sort(
                ["name_score", "exact", "qid", "name_id", "qvid", "vid"],
                descending=[True, True, False, False, False, False],
            )
            .unique(["qid", "name_id"], keep="first", maintain_order=True)
            .select(list(_SCORED_SCHEMA))
        )

    def _decide(
        self, qinfo: pl.DataFrame, scored: pl.DataFrame, facts: pl.DataFrame
    ) -> pl.DataFrame:
        """One row per (qid, entry_id): best name, adjusted score and decision (vectorised)."""
        cfg = self.config
        short = (pl.col("qweight") < cfg.short_name_weight) | (
            pl.col("cweight") < cfg.short_name_weight
        )
        named = (
            scored.join(self._names, on="name_id")
            .join(qinfo.select("qid", "qweight"), on="qid")
            .with_columns(
                pl.when(short & ~pl.col("exact"))
                .then(pl.col("name_score") * (1 - cfg.short_name_damping))
                .otherwise(pl.col("name_score"))
                .alias("name_score"),
                pl.col("kind").replace_strict(_KIND_RANK, return_dtype=pl.Int32).alias("rank"),
            )
            .sort(["name_score", "rank", "name_id"], descending=[True, False, False])
        )
        cols = [c for c in named.columns if c not in ("qid", "entry_id")]
        is_weak = pl.col("kind") == "weak_alias"
        best = named.filter(~is_weak).group_by("qid", "entry_id", maintain_order=True).first()
        best_weak = (
            named.filter(is_weak)
            .group_by("qid", "entry_id", maintain_order=True)
            .first()
            .select("qid", "entry_id", *[pl.col(c).alias("w_" + c) for c in cols])
        )
        merged = best.join(best_weak, on=["qid", "entry_id"], how="full", coalesce=True)
        weak_capped = pl.col("w_name_score").fill_null(-1.0).clip(upper_bound=cfg.weak_alias_cap)
        use_weak = weak_capped > pl.col("name_score").fill_null(-1.0)
        merged = merged.with_columns(
            use_weak.alias("from_weak"),
            (~use_weak & (pl.col("w_name_score").fill_null(0.0) >= cfg.possible_threshold)).alias(
                "weak_support"
            ),
            *[pl.when(use_weak).then(pl.col("w_" + c)).otherwise(pl.col(c)).alias(c) for c in cols],
        ).drop([c for c in merged.columns if c.startswith("w_")])
        # Entries related only by identifier (no name pair scored) still get a row.
        merged = pl.concat(
            [
                merged,
                facts.select("qid", "entry_id").join(merged, on=["qid", "entry_id"], how="anti"),
            ],
            how="diagonal_relaxed",
        ).with_columns(
            pl.col("from_weak").fill_null(False),
            pl.col("weak_support").fill_null(False),
            pl.col("exact").fill_null(False),
        )
        merged = merged.join(facts, on=["qid", "entry_id"], how="left").join(
            qinfo.select("qid", "qname", "qlegal", "qcountry"), on="qid"
        )
        merged = self._add_conflicts(merged).join(self._entries, on="entry_id", how="left")
        country = (
            pl.when(
                pl.col("qcountry").is_null() | (pl.col("countries").list.len().fill_null(0) == 0)
            )
            .then(0)
            .when(pl.col("countries").list.contains(pl.col("qcountry")))
            .then(1)
            .otherwise(-1)
        )
        base = (
            pl.when(pl.col("from_weak"))
            .then(pl.col("name_score").clip(upper_bound=cfg.weak_alias_cap))
            .otherwise(pl.col("name_score"))
        )
        score = (
            base.fill_null(0.0)
            + pl.when(pl.col("weak_support")).then(cfg.weak_alias_support).otherwise(0.0)
            + pl.when(pl.col("country_effect") > 0)
            .then(cfg.country_bonus)
            .when(pl.col("country_effect") < 0)
            .then(-cfg.country_penalty)
            .otherwise(0.0)
            - pl.when(pl.col("id_conflict").is_not_null())
            .then(cfg.identifier_conflict_penalty)
            .otherwise(0.0)
        ).clip(0.0, 1.0)
        by_score = (
            pl.when(pl.col("score") >= cfg.match_threshold)
            .then(pl.lit("match"))
            .when(pl.col("score") >= cfg.possible_threshold)
            .then(pl.lit("possible"))
            .otherwise(pl.lit("no_match"))
        )
        return (
            merged.with_columns(country.alias("country_effect"))
            .with_columns(score.alias("score"))
            .with_columns(
                pl.when(pl.col("id_match").is_not_null())
                .then(1.0)
                .otherwise(pl.col("score"))
                .alias("score"),
                pl.when(pl.col("id_match").is_not_null())
                .then(pl.lit("match"))
                .when(pl.col("from_weak"))
                .then(pl.lit("no_match"))
                .when(pl.col("id_conflict").is_not_null() & (by_score == "match"))
                .then(pl.lit("possible"))
                .otherwise(by_score)
                .alias("decision"),
                pl.col("name").fill_null(
                    pl.col("entry_id").replace_strict(self._entry_name, default=None)
                ),
                pl.col("kind").fill_null("primary"),
            )
        )

    def _add_conflicts(self, merged: pl.DataFrame) -> pl.DataFrame:
        """Set `id_conflict` where a valid query identifier differs from the entry's valid
        identifier of the same scheme; list `invalid_ids` failing their check."""
        conflicts: list[tuple[int, str, str]] = []
        invalid: list[tuple[int, str]] = []
        for qid, idents in self._query_ids.items():
            bad = [f"{i.scheme} {i.value}" for i in idents if i.is_valid is False]
            bad += [f"{i.value} (no known scheme)" for i in idents if i.scheme == "OTHER"]
            if bad:
                invalid.append((qid, "; ".join(bad)))
        related = set(self._query_ids)
        if related:
            subset = merged.filter(pl.col("qid").is_in(list(related))).select("qid", "entry_id")
            for qid, entry_id in subset.iter_rows():
                listed = self._entry_identifiers.get(entry_id, {})
                for ident in self._query_ids[qid]:
                    values = listed.get(ident.scheme)
                    if ident.is_valid and values and ident.value not in values:
                        conflicts.append(
                            (qid, entry_id,
                             f"{ident.scheme} {ident.value} vs {', '.join(sorted(values))}")
                        )  # fmt: skip
        conflict_frame = pl.DataFrame(
            conflicts,
            schema={"qid": pl.UInt32, "entry_id": pl.String, "conflict": pl.String},
            orient="row",
        ).unique(["qid", "entry_id"])
        invalid_frame = pl.DataFrame(
            invalid, schema={"qid": pl.UInt32, "invalid_ids": pl.String}, orient="row"
        )
        return (
            merged.join(conflict_frame, on=["qid", "entry_id"], how="left")
            .with_columns(pl.coalesce("id_conflict", "conflict").alias("id_conflict"))
            .drop("conflict")
            .join(invalid_frame, on="qid", how="left")
        )

    def _matched_tokens(
        self, qtokens: pl.DataFrame, rows: pl.DataFrame
    ) -> dict[tuple[int, int], tuple[str, str]]:
        """For each reported (qvid, vid): matched and unmatched query tokens, as text."""
        tp = (
            rows.filter(pl.col("qvid").is_not_null())
            .select("qvid", "vid")
            .unique()
            .join(qtokens, on="qvid")
            .join(self._vtokens, on="vid")
        )
        if not tp.height:
            return {}
        left = np.fromiter((self._token_id(t) for t in tp["qtok"]), np.int64, tp.height)
        right = np.fromiter((self._token_id(t) for t in tp["ctok"]), np.int64, tp.height)
        tp = tp.with_columns(pl.Series("sim", self._similarity(left, right), dtype=pl.Float64))
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

    def _explain(
        self, row: Mapping[str, Any], tokens: Mapping[tuple[int, int], tuple[str, str]]
    ) -> tuple[str, str]:
        """(explanation sentence, features JSON) of one decided row."""
        cfg = self.config
        features: dict[str, Any] = {}
        reasons: list[str] = []
        against: list[str] = []
        if row["id_match"]:
            reasons.append(
                f"query {row['id_match']} passes its check and equals the list's"
                f" {row['id_match'].split(' ')[0]} of entry {row['entry_id']}"
            )
            features["identifier_match"] = row["id_match"]
        if row["qvid"] is not None:
            matched, unmatched = tokens.get((row["qvid"], row["vid"]), ("", ""))
            text = (
                f"name similarity {row['name_score']:.2f} with the"
                f" {_KIND_LABEL[row['kind']]} '{row['name']}' (rarity-weighted token overlap"
                f" {row['token_score']:.2f}, string similarity {row['string_score']:.2f};"
                f" matched tokens: {matched or 'none'}"
            )
            if unmatched:
                text += f"; unmatched query tokens: {unmatched}"
            forms = self._forms[row["name_id"]]
            if row["qlegal"] or forms.legal_form:
                text += f"; legal forms {row['qlegal'] or '-'}/{forms.legal_form or '-'} ignored"
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
        if row["from_weak"]:
            against.append(
                "only a weak alias matched, which never gives an alert on its own"
                f" (score capped at {cfg.weak_alias_cap:.2f})"
            )
            features["weak_alias_only"] = True
        elif row["weak_support"]:
            reasons.append(f"a weak alias also matches (+{cfg.weak_alias_support:.2f})")
        if row["country_effect"] > 0:
            reasons.append(
                f"country {row['qcountry']} is one of the entry's (+{cfg.country_bonus:.2f})"
            )
            features["country"] = "same"
        elif row["country_effect"] < 0:
            against.append(
                f"country {row['qcountry']} is not among the entry's"
                f" {', '.join(row['countries'])} (-{cfg.country_penalty:.2f})"
            )
            features["country"] = "different"
        if row["id_conflict"]:
            against.append(
                f"valid query identifier {row['id_conflict']} of the entry"
                f" (-{cfg.identifier_conflict_penalty:.2f}, never a match)"
            )
            features["identifier_conflict"] = row["id_conflict"]
        if row["invalid_ids"]:
            against.append(f"identifier {row['invalid_ids']} fails its check: kept, not used")
            features["invalid_identifiers"] = row["invalid_ids"]
        head = {"match": "Name match", "possible": "Possible match", "no_match": "No match"}[
            row["decision"]
        ]
        if row["id_match"]:
            head = "Identifier match"
        text = f"{head} (score {row['score']:.2f}): " + "; ".join(reasons or ["no name evidence"])
        if against:
            text += ". Against: " + "; ".join(against)
        return text + ".", json.dumps(features, sort_keys=True, ensure_ascii=False)

    def _report(self, decided: pl.DataFrame, qtokens: pl.DataFrame) -> pl.DataFrame:
        tokens = self._matched_tokens(qtokens, decided)
        explained = [self._explain(row, tokens) for row in decided.iter_rows(named=True)]
        return decided.with_columns(
            pl.Series("explanation", [e for e, _ in explained], dtype=pl.String),
            pl.Series("features", [f for _, f in explained], dtype=pl.String),
            pl.lit(self.list_id).alias("list_id"),
            pl.col("qid").cast(pl.Int64).alias("query_row"),
        ).select(
            *RESULT_COLUMNS[:1],
            pl.col("qname").alias("query_name"),
            "list_id",
            "entry_id",
            pl.col("name").alias("matched_name"),
            pl.col("kind").alias("matched_name_kind"),
            pl.col("score").round(4),
            "decision",
            "explanation",
            "features",
        )

    # ------------------------------------------------------------------------ public API
    def screen(
        self, queries: pl.DataFrame, top: int = 3, min_score: float | None = None
    ) -> pl.DataFrame:
        """Best `top` candidates per query row: identifier matches first, then by score.

        `queries` needs a `name` column; `inn`, `ogrn`, `identifier` and `country` are
        optional. One row per (query, candidate) with the columns of `RESULT_COLUMNS`;
        `query_row` is the 0-based position in `queries` and `features` is JSON. A query
        without a candidate scoring at least `min_score` (default `config.min_report_score`)
        has no row.
        """
        floor = self.config.min_report_score if min_score is None else min_score
        parts: list[pl.DataFrame] = []
        for start in range(0, queries.height, self.config.batch_size):
            batch = queries.slice(start, self.config.batch_size)
            qinfo, qvariants, qtokens = self._prepare(batch)
            facts = self._identifier_facts()
            pairs = pl.concat(
                [
                    self._block(qvariants),
                    facts.join(self._entry_names, on="entry_id")
                    .explode("name_id")
                    .select("qid", "name_id"),
                ]
            ).unique()
            decided = (
                self._decide(qinfo, self._score_names(qvariants, qtokens, pairs), facts)
                .filter((pl.col("score") >= floor) | pl.col("id_match").is_not_null())
                .sort(
                    ["qid", "id_match", "score", "entry_id"],
                    descending=[False, True, True, False],
                    nulls_last=True,
                )
                .group_by("qid", maintain_order=True)
                .head(top)
            )
            report = self._report(decided, qtokens)
            parts.append(report.with_columns(pl.col("query_row") + start))
        if not parts:
            return pl.DataFrame(schema=dict.fromkeys(RESULT_COLUMNS, pl.String)).with_columns(
                pl.col("query_row").cast(pl.Int64), pl.col("score").cast(pl.Float64)
            )
        return pl.concat(parts)

    def match(self, query: Query, top: int = 10, min_score: float | None = None) -> list[Candidate]:
        """Candidates for one query, best first."""
        frame = pl.DataFrame(
            [[query.name, query.inn, query.ogrn, query.identifier, query.country]],
            schema=dict.fromkeys(("name", "inn", "ogrn", "identifier", "country"), pl.String),
            orient="row",
        )
        return [
            to_candidate(row) for row in self.screen(frame, top, min_score).iter_rows(named=True)
        ]

    def score_pairs(self, pairs: pl.DataFrame, explain: bool = True) -> pl.DataFrame:
        """Score each row's query (`name`, optional `inn`/`ogrn`/`identifier`/`country`) against
        the entry in its `entry_id` column, without blocking. Returns the input with `score`,
        `decision`, `matched_name`, `matched_name_kind` (and `explanation`, `features` when
        `explain`). Rows whose entry is unknown or whose name is empty score 0."""
        queries = pairs.with_columns(pl.col("entry_id").cast(pl.String))
        qinfo, qvariants, qtokens = self._prepare(queries)
        facts = self._identifier_facts()
        wanted = queries.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("qid"), "entry_id")
        facts = facts.join(wanted, on=["qid", "entry_id"], how="semi")
        name_pairs = (
            wanted.join(self._entry_names, on="entry_id")
            .explode("name_id")
            .select("qid", "name_id")
        )
        decided = self._decide(qinfo, self._score_names(qvariants, qtokens, name_pairs), facts)
        if explain:
            result = self._report(decided, qtokens).rename({"query_row": "qid"})
            result = result.select(
                pl.col("qid").cast(pl.UInt32), "entry_id", "matched_name", "matched_name_kind",
                "score", "decision", "explanation", "features",
            )  # fmt: skip
        else:
            result = decided.select(
                "qid", "entry_id",
                pl.col("name").alias("matched_name"),
                pl.col("kind").alias("matched_name_kind"),
                "score", "decision",
            )  # fmt: skip
        return (
            queries.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("qid"))
            .join(result, on=["qid", "entry_id"], how="left")
            .with_columns(pl.col("score").fill_null(0.0), pl.col("decision").fill_null("no_match"))
            .sort("qid")
            .drop("qid")
        )


def to_candidate(row: Mapping[str, Any]) -> Candidate:
    """A `Candidate` from one row of a `screen` result."""
    return Candidate(
        list_id=row["list_id"],
        entry_id=row["entry_id"],
        matched_name=row["matched_name"],
        matched_name_kind=row["matched_name_kind"],
        score=row["score"],
        decision=row["decision"],
        explanation=row["explanation"],
        features=json.loads(row["features"]),
    )


def matcher_from_parsed(
    parsed: Any, config: MatchConfig | None = None, list_id: str = "sanctions"
) -> Matcher:
    """A Matcher over a `ParsedList` (assets.sanctions.model)."""
    return Matcher(parsed.entries, parsed.aliases, parsed.identifiers, config, list_id)
