"""Screening of counterparty names and identifiers against one sanctions list.

`Matcher` is built from the list model's frames (entries, aliases, identifiers). Rules, in order:

1. Identifiers. A query's RU INN / OGRN that passes its check (python-stdnum) and equals a
   valid list identifier is an identifier match: score 1, decision `match`, ranked above every
   name match. An identifier failing its check is kept, flagged in the explanation and never
   joined. A valid identifier that differs from the candidate's valid identifier of the same
   scheme counts strongly against the name match (it can then never be a `match`).
2. Names. Candidates are blocked on rare tokens, joined adjacent tokens and metaphone keys,
   then scored over every romanization of both names: token overlap weighted by each token's
   rarity in the list (so generic words and legal forms count little or nothing) blended with
   rapidfuzz whole-string similarity. A weak alias alone never gives a `match`.
3. Countries support (same) or oppose (disjoint) a name match.

`screen` is vectorised (polars joins plus rapidfuzz `cpdist`) for throughput; `match` screens
one `Query`; `score_pairs` scores given (name, entry) pairs, which is what the evaluation uses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import polars as pl
from rapidfuzz import fuzz, process
from rigour.text import metaphone
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

from assets.resolution.names import NameForms, normalize
from assets.sanctions.countries import to_iso2

DECISIONS = ("match", "possible", "no_match")
NAME_KINDS = ("primary", "alias", "weak_alias")
_KIND_RANK = {kind: rank for rank, kind in enumerate(NAME_KINDS)}
_VALIDATORS = {"RU_INN": ru_inn.is_valid, "RU_OGRN": ru_ogrn.is_valid}


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds and weights of the matcher (load from YAML with `from_mapping`)."""

    match_threshold: float = 0.88
    possible_threshold: float = 0.72
    # Token pairs less similar than this (rapidfuzz ratio, 0..1) count as unmatched.
    token_similarity_floor: float = 0.8
    # Share of the rarity-weighted token overlap in the name score (the rest: string similarity).
    token_weight: float = 0.6
    # Names whose list-independent distinctiveness (NameForms.weight) is below this are
    # "short": a non-exact match on them is damped by `short_name_damping`.
    short_name_weight: float = 0.5
    short_name_damping: float = 0.15
    country_bonus: float = 0.03
    country_penalty: float = 0.1
    identifier_conflict_penalty: float = 0.5
    # A weak alias alone scores at most this and never gives a `match`.
    weak_alias_cap: float = 0.8
    weak_alias_support: float = 0.02
    # Blocking: names scored per query, and keys too frequent to block on.
    max_candidates: int = 25
    max_key_frequency: int = 300
    # Candidates below this score are not reported by `screen` / `match`.
    min_report_score: float = 0.5
    # Queries per vectorised batch (bounds memory).
    batch_size: int = 20_000

    def __post_init__(self) -> None:
        if not 0 <= self.possible_threshold <= self.match_threshold <= 1:
            raise ValueError("need 0 <= possible_threshold <= match_threshold <= 1")
        if not 0 <= self.token_weight <= 1:
            raise ValueError("token_weight must be in 0..1")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> MatchConfig:
        """Build from a mapping (e.g. parsed YAML); unknown keys raise, missing keep defaults."""
        mapping = dict(mapping or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(mapping) - set(known))
        if unknown:
            raise ValueError(f"unknown matcher settings: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key, value in mapping.items():
            values[key] = int(value) if known[key].type in ("int", int) else float(value)
        return cls(**values)

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
    """An identifier given with a query, with its scheme and check-digit verdict."""

    scheme: str
    value: str
    is_valid: bool | None


def parse_identifiers(
    inn: str | None = None, ogrn: str | None = None, identifier: str | None = None
) -> list[QueryIdentifier]:
    """Identifiers of a query: INN and OGRN columns, plus a generic identifier column whose
    scheme is guessed from its length (10/12 digits INN, 13/15 digits OGRN)."""
    found: list[QueryIdentifier] = []
    for scheme, raw in (("RU_INN", inn), ("RU_OGRN", ogrn), (None, identifier)):
        value = "".join(str(raw or "").split()).strip()
        if not value or value.lower() in ("none", "nan", "null"):
            continue
        if scheme is None:
            digits = value.isdigit()
            scheme = (
                "RU_INN"
                if digits and len(value) in (10, 12)
                else "RU_OGRN"
                if digits and len(value) in (13, 15)
                else "OTHER"
            )
        validator = _VALIDATORS.get(scheme)
        found.append(QueryIdentifier(scheme, value, validator(value) if validator else None))
    return found


def _keys(variant: tuple[str, ...]) -> set[str]:
    keys = {"t:" + t for t in variant}
    keys.update("t:" + a + b for a, b in zip(variant, variant[1:], strict=False))
    keys.update("m:" + metaphone(t) for t in variant if len(t) >= 4 and t.isalpha())
    keys.add("f:" + "".join(variant))
    return keys


def _iso2(country: str | None) -> str | None:
    if not country or not str(country).strip():
        return None
    text = str(country).strip()
    return text.upper() if len(text) == 2 and text.isalpha() else to_iso2(text)


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
        self._entry_type: dict[str, str] = {}
        self._entry_countries: dict[str, frozenset[str]] = {}
        self._entry_name: dict[str, str] = {}
        for row in entries.iter_rows(named=True):
            entry_id = str(row["entry_id"])
            self._entry_type[entry_id] = row.get("entity_type") or "unknown"
            self._entry_countries[entry_id] = frozenset(row.get("countries") or ())
            self._entry_name[entry_id] = row["name"]

        names: dict[tuple[str, str], str] = {}
        for entry_id, name in zip(entries["entry_id"], entries["name"], strict=True):
            if name:
                names[(str(entry_id), name)] = "primary"
        if aliases is not None and aliases.height:
            quality = aliases["quality"] if "quality" in aliases.columns else None
            for i, (entry_id, alias) in enumerate(
                zip(aliases["entry_id"], aliases["alias"], strict=True)
            ):
                if not alias or str(entry_id) not in self._entry_type:
                    continue
                kind = "weak_alias" if quality is not None and quality[i] == "weak" else "alias"
                key = (str(entry_id), alias)
                if key not in names or _KIND_RANK[kind] < _KIND_RANK[names[key]]:
                    names[key] = kind
        self._build_name_index(names)
        self._build_identifier_index(identifiers)

    # ----------------------------------------------------------------------------- index
    def _build_name_index(self, names: dict[tuple[str, str], str]) -> None:
        name_rows: dict[str, list[Any]] = {
            k: [] for k in ("name_id", "entry_id", "name", "kind", "cweight", "clegal")
        }
        variant_rows: dict[str, list[Any]] = {
            k: [] for k in ("vid", "name_id", "ctokens", "cjoined", "ccompact")
        }
        token_entries: dict[str, set[str]] = {}
        key_entries: dict[str, set[str]] = {}
        name_keys: list[set[str]] = []
        self._forms: list[NameForms] = []
        vid = 0
        for (entry_id, name), kind in names.items():
            forms = normalize(name)
            if forms.is_empty:
                continue
            name_id = len(self._forms)
            self._forms.append(forms)
            for column, value in zip(
                name_rows,
                (name_id, entry_id, name, kind, forms.weight, forms.legal_form),
                strict=True,
            ):
                name_rows[column].append(value)
            keys: set[str] = set()
            for variant in forms.variants:
                for column, value in zip(
                    variant_rows,
                    (vid, name_id, list(variant), " ".join(sorted(variant)), "".join(variant)),
                    strict=True,
                ):
                    variant_rows[column].append(value)
                vid += 1
                for token in variant:
                    token_entries.setdefault(token, set()).add(entry_id)
                keys |= _keys(variant)
            name_keys.append(keys)
            for key in keys:
                key_entries.setdefault(key, set()).add(entry_id)

        self._n_entries = max(1, len(self._entry_type))
        self._df = {token: len(ids) for token, ids in token_entries.items()}
        self._idf_unknown = self._idf(1)
        self._names = pl.DataFrame(
            name_rows,
            schema={
                "name_id": pl.UInt32,
                "entry_id": pl.String,
                "name": pl.String,
                "kind": pl.String,
                "cweight": pl.Float64,
                "clegal": pl.String,
            },
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
        )
        self._vtokens = (
            self._variants.select("vid", "ctokens")
            .with_columns(pl.int_ranges(pl.col("ctokens").list.len()).alias("cpos"))
            .explode("ctokens", "cpos")
            .rename({"ctokens": "ctok"})
            .with_columns(
                pl.col("ctok")
                .replace_strict(self._token_weights(), default=self._idf_unknown)
                .cast(pl.Float64)
                .alias("cw")
            )
        )
        limit = self.config.max_key_frequency
        key_weight = {
            key: self._idf(len(ids))
            for key, ids in key_entries.items()
            if len(ids) <= limit or key.startswith("f:")
        }
        key_rows = [
            (key, name_id) for name_id, keys in enumerate(name_keys) for key in keys
            if key in key_weight
        ]  # fmt: skip
        self._keys = pl.DataFrame(
            key_rows, schema={"key": pl.String, "name_id": pl.UInt32}, orient="row"
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
            value = "".join(str(value).split())
            self._by_identifier.setdefault((scheme, value), set()).add(str(entry_id))
            self._entry_identifiers.setdefault(str(entry_id), {}).setdefault(scheme, set()).add(
                value
            )

    def _idf(self, df: int) -> float:
        return math.log(1 + self._n_entries / df)

    def _token_weights(self) -> dict[str, float]:
        return {token: self._idf(df) for token, df in self._df.items()}

    def token_weight(self, token: str) -> float:
        """Rarity weight (idf over list entries) of a skeleton token; unknown tokens weigh most."""
        df = self._df.get(token)
        return self._idf(df) if df else self._idf_unknown

    # --------------------------------------------------------------------------- queries
    def _prepare(self, queries: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(query info, query variants, query variant tokens) with qid = row position."""
        if "name" not in queries.columns:
            raise ValueError("queries need a `name` column")
        height = queries.height

        def column(name: str) -> list[Any]:
            return queries[name].cast(pl.String).to_list() if name in queries.columns else [None] * height

        names, inns, ogrns, others, countries = (
            column(c) for c in ("name", "inn", "ogrn", "identifier", "country")
        )
        info: dict[str, list[Any]] = {k: [] for k in ("qid", "qname", "qweight", "qlegal", "qcountry")}
        variants: dict[str, list[Any]] = {
            k: [] for k in ("qvid", "qid", "qtokens", "qjoined", "qcompact")
        }
        self._query_ids: dict[int, list[QueryIdentifier]] = {}
        qvid = 0
        for qid in range(height):
            name = names[qid] or ""
            forms = normalize(name)
            for column_name, value in zip(
                info,
                (qid, name, forms.weight, forms.legal_form, _iso2(countries[qid])),
                strict=True,
            ):
                info[column_name].append(value)
            for variant in forms.variants:
                for column_name, value in zip(
                    variants,
                    (qvid, qid, list(variant), " ".join(sorted(variant)), "".join(variant)),
                    strict=True,
                ):
                    variants[column_name].append(value)
                qvid += 1
            if inns[qid] or ogrns[qid] or others[qid]:
                self._query_ids[qid] = parse_identifiers(inns[qid], ogrns[qid], others[qid])
        qinfo = pl.DataFrame(
            info,
            schema={
                "qid": pl.UInt32,
                "qname": pl.String,
                "qweight": pl.Float64,
                "qlegal": pl.String,
                "qcountry": pl.String,
            },
        )
        qvariants = pl.DataFrame(
            variants,
            schema={
                "qvid": pl.UInt32,
                "qid": pl.UInt32,
                "qtokens": pl.List(pl.String),
                "qjoined": pl.String,
                "qcompact": pl.String,
            },
        )
        weights = self._token_weights()
        qtokens = (
            qvariants.select("qvid", "qtokens")
            .with_columns(pl.int_ranges(pl.col("qtokens").list.len()).alias("qpos"))
            .explode("qtokens", "qpos")
            .rename({"qtokens": "qtok"})
            .with_columns(
                pl.col("qtok")
                .replace_strict(weights, default=self._idf_unknown)
                .cast(pl.Float64)
                .alias("qw")
            )
        )
        return qinfo, qvariants, qtokens

    def _identifier_pairs(self) -> tuple[pl.DataFrame, dict[tuple[int, str], dict[str, Any]]]:
        """Entries related to each query by identifier, and the identifier facts per pair."""
        facts: dict[tuple[int, str], dict[str, Any]] = {}
        for qid, ids in self._query_ids.items():
            for ident in ids:
                if not ident.is_valid:
                    continue
                for entry_id in self._by_identifier.get((ident.scheme, ident.value), ()):
                    facts.setdefault((qid, entry_id), {})["identifier_match"] = (
                        f"{ident.scheme} {ident.value}"
                    )
        rows = [(qid, entry_id) for qid, entry_id in facts]
        return pl.DataFrame(
            rows, schema={"qid": pl.UInt32, "entry_id": pl.String}, orient="row"
        ), facts

    def _block(self, qvariants: pl.DataFrame) -> pl.DataFrame:
        """(qid, name_id) candidate pairs: the names sharing the rarest keys with each query."""
        rows = [
            (qid, key)
            for qid, tokens in qvariants.select("qid", "qtokens").iter_rows()
            for key in _keys(tuple(tokens))
        ]
        qkeys = pl.DataFrame(rows, schema={"qid": pl.UInt32, "key": pl.String}, orient="row")
        return (
            qkeys.unique()
            .join(self._keys, on="key")
            .group_by("qid", "name_id")
            .agg(pl.col("kw").sum().alias("prescore"))
            .filter(
                pl.col("prescore").rank("ordinal", descending=True).over("qid")
                <= self.config.max_candidates
            )
            .select("qid", "name_id")
        )

    # --------------------------------------------------------------------------- scoring
    def _score_names(
        self, qvariants: pl.DataFrame, qtokens: pl.DataFrame, pairs: pl.DataFrame
    ) -> pl.DataFrame:
        """Best name score per (qid, name_id) over all pairs of romanization variants."""
        cfg = self.config
        vp = (
            pairs.join(qvariants.select("qvid", "qid", "qjoined", "qcompact"), on="qid")
            .join(self._variants.select("vid", "name_id", "cjoined", "ccompact"), on="name_id")
        )
        if not vp.height:
            return pl.DataFrame(
                schema={
                    "qid": pl.UInt32,
                    "name_id": pl.UInt32,
                    "qvid": pl.UInt32,
                    "vid": pl.UInt32,
                    "name_score": pl.Float64,
                    "token_score": pl.Float64,
                    "string_score": pl.Float64,
                    "exact": pl.Boolean,
                }
            )
        tp = (
            vp.select("qvid", "vid")
            .join(qtokens, on="qvid")
            .join(self._vtokens, on="vid")
        )
        uniq = tp.select("qtok", "ctok").unique()
        sims = process.cpdist(
            uniq["qtok"].to_list(), uniq["ctok"].to_list(), scorer=fuzz.ratio, workers=-1
        )
        has_digit = pl.col("qtok").str.contains(r"\d") | pl.col("ctok").str.contains(r"\d")
        short = (pl.col("qtok").str.len_chars() <= 3) | (pl.col("ctok").str.len_chars() <= 3)
        raw = pl.Series("sim", sims, dtype=pl.Float64) / 100
        uniq = uniq.with_columns(raw).with_columns(
            pl.when(has_digit | short)
            .then((pl.col("qtok") == pl.col("ctok")).cast(pl.Float64))
            .when(pl.col("sim") >= cfg.token_similarity_floor)
            .then(pl.col("sim"))
            .otherwise(0.0)
            .alias("sim")
        )
        tp = tp.join(uniq, on=["qtok", "ctok"])
        qside = (
            tp.group_by("qvid", "vid", "qpos")
            .agg(pl.col("qw").first(), pl.col("sim").max())
            .group_by("qvid", "vid")
            .agg((pl.col("qw") * pl.col("sim")).sum().alias("qm"), pl.col("qw").sum().alias("qt"))
        )
        cside = (
            tp.group_by("qvid", "vid", "cpos")
            .agg(pl.col("cw").first(), pl.col("sim").max())
            .group_by("qvid", "vid")
            .agg((pl.col("cw") * pl.col("sim")).sum().alias("cm"), pl.col("cw").sum().alias("ct"))
        )
        sort_sim = process.cpdist(
            vp["qjoined"].to_list(), vp["cjoined"].to_list(), scorer=fuzz.token_sort_ratio,
            workers=-1,
        )  # fmt: skip
        compact_sim = process.cpdist(
            vp["qcompact"].to_list(), vp["ccompact"].to_list(), scorer=fuzz.ratio, workers=-1
        )
        token_score = (pl.col("qm") + pl.col("cm")) / (pl.col("qt") + pl.col("ct"))
        string_score = pl.max_horizontal("sort_sim", "compact_sim") / 100
        return (
            vp.with_columns(
                pl.Series("sort_sim", sort_sim, dtype=pl.Float64),
                pl.Series("compact_sim", compact_sim, dtype=pl.Float64),
                (pl.col("qjoined") == pl.col("cjoined")).alias("exact"),
            )
            .join(qside, on=["qvid", "vid"], how="left")
            .join(cside, on=["qvid", "vid"], how="left")
            .with_columns(
                token_score.fill_null(0.0).alias("token_score"),
                string_score.alias("string_score"),
            )
            .with_columns(
                (
                    cfg.token_weight * pl.col("token_score")
                    + (1 - cfg.token_weight) * pl.col("string_score")
                ).alias("name_score")
            )
            .sort("name_score", "exact", descending=True)
            .group_by("qid", "name_id", maintain_order=True)
            .first()
            .select(
                "qid", "name_id", "qvid", "vid", "name_score", "token_score", "string_score",
                "exact",
            )
        )  # fmt: skip

    def _matched_tokens(self, qtokens: pl.DataFrame, best: pl.DataFrame) -> pl.DataFrame:
        """For each reported (qvid, vid): the query tokens matched and unmatched, as text."""
        tp = (
            best.select("qvid", "vid")
            .unique()
            .join(qtokens, on="qvid")
            .join(self._vtokens, on="vid")
        )
        if not tp.height:
            return pl.DataFrame(
                schema={"qvid": pl.UInt32, "vid": pl.UInt32, "matched": pl.String,
                        "unmatched": pl.String}
            )  # fmt: skip
        sims = process.cpdist(
            tp["qtok"].to_list(), tp["ctok"].to_list(), scorer=fuzz.ratio, workers=-1
        )
        floor = self.config.token_similarity_floor * 100
        has_digit = pl.col("qtok").str.contains(r"\d") | pl.col("ctok").str.contains(r"\d")
        short = (pl.col("qtok").str.len_chars() <= 3) | (pl.col("ctok").str.len_chars() <= 3)
        tp = tp.with_columns(pl.Series("sim", sims, dtype=pl.Float64)).with_columns(
            pl.when(has_digit | short)
            .then(pl.when(pl.col("qtok") == pl.col("ctok")).then(100.0).otherwise(0.0))
            .when(pl.col("sim") >= floor)
            .then(pl.col("sim"))
            .otherwise(0.0)
            .alias("sim")
        )
        per_token = (
            tp.sort("sim", descending=True)
            .group_by("qvid", "vid", "qpos", maintain_order=True)
            .first()
            .sort("qpos")
            .with_columns(
                pl.when(pl.col("sim") >= 100)
                .then(pl.col("qtok"))
                .when(pl.col("sim") > 0)
                .then(pl.format("{}~{}", "qtok", "ctok"))
                .alias("m")
            )
        )
        return per_token.group_by("qvid", "vid").agg(
            pl.col("m").drop_nulls().str.join(", ").alias("matched"),
            pl.col("qtok").filter(pl.col("sim") == 0).str.join(", ").alias("unmatched"),
        )

    def _decide(
        self,
        qinfo: pl.DataFrame,
        qtokens: pl.DataFrame,
        scored: pl.DataFrame,
        id_facts: dict[tuple[int, str], dict[str, Any]],
    ) -> pl.DataFrame:
        """One row per (qid, entry_id): the entry's best name, adjusted score and decision."""
        cfg = self.config
        named = scored.join(self._names, on="name_id")
        short_q = pl.col("qweight") < cfg.short_name_weight
        short_c = pl.col("cweight") < cfg.short_name_weight
        named = named.join(qinfo.select("qid", "qweight"), on="qid").with_columns(
            pl.when((short_q | short_c) & ~pl.col("exact"))
            .then(pl.col("name_score") * (1 - cfg.short_name_damping))
            .otherwise(pl.col("name_score"))
            .alias("name_score")
        )
        named = named.with_columns(
            (pl.col("kind") == "weak_alias").alias("is_weak"),
            pl.col("kind").replace_strict(_KIND_RANK, return_dtype=pl.Int32).alias("kind_rank"),
        ).sort(["name_score", "kind_rank"], descending=[True, False])
        strong = named.filter(~pl.col("is_weak")).group_by("qid", "entry_id", maintain_order=True)
        weak = named.filter(pl.col("is_weak")).group_by("qid", "entry_id", maintain_order=True)
        best_strong = strong.first()
        best_weak = weak.first().select(
            "qid", "entry_id", *[pl.col(c).alias("w_" + c) for c in named.columns if c not in ("qid", "entry_id")]
        )
        merged = best_strong.join(best_weak, on=["qid", "entry_id"], how="full", coalesce=True)
        use_weak = pl.col("name_score").is_null() | (
            pl.col("w_name_score").fill_null(0) > pl.col("name_score").fill_null(0)
        ) & (pl.col("w_name_score").fill_null(0).clip(upper_bound=cfg.weak_alias_cap) > pl.col("name_score").fill_null(0))
        cols = [c for c in named.columns if c not in ("qid", "entry_id")]
        merged = merged.with_columns(
            use_weak.alias("from_weak"),
            *[
                pl.when(use_weak).then(pl.col("w_" + c)).otherwise(pl.col(c)).alias(c)
                for c in cols
            ],
        ).with_columns(
            pl.when(pl.col("from_weak"))
            .then(pl.col("name_score").clip(upper_bound=cfg.weak_alias_cap))
            .otherwise(pl.col("name_score"))
            .alias("adjusted"),
            (
                ~pl.col("from_weak")
                & (pl.col("w_name_score").fill_null(0) >= cfg.possible_threshold)
            ).alias("weak_support"),
        )
        rows = merged.join(qinfo.select("qid", "qname", "qcountry"), on="qid").to_dicts()
        best_pairs = merged.filter(pl.col("qvid").is_not_null()).select("qvid", "vid")
        tokens = {
            (r["qvid"], r["vid"]): (r["matched"], r["unmatched"])
            for r in self._matched_tokens(qtokens, best_pairs).iter_rows(named=True)
        }
        out: list[dict[str, Any]] = []
        for row in rows:
            out.append(self._finish(row, id_facts.get((row["qid"], row["entry_id"]), {}), tokens))
        return pl.DataFrame(out, schema=_RESULT_SCHEMA)

    def _finish(
        self,
        row: dict[str, Any],
        facts: dict[str, Any],
        tokens: dict[tuple[int, int], tuple[str, str]],
    ) -> dict[str, Any]:
        """Apply identifier, country and weak-alias rules to one (query, entry) and explain."""
        cfg = self.config
        qid, entry_id = row["qid"], row["entry_id"]
        name_score = float(row["name_score"] or 0.0)
        score = float(row["adjusted"] or 0.0)
        kind = row["kind"] or "primary"
        matched_name = row["name"] or self._entry_name.get(entry_id, "")
        reasons_for: list[str] = []
        reasons_against: list[str] = []
        features: dict[str, Any] = {
            "name_score": round(name_score, 4),
            "token_score": round(float(row["token_score"] or 0.0), 4),
            "string_score": round(float(row["string_score"] or 0.0), 4),
            "exact_core": bool(row["exact"]),
        }
        cap_decision: str | None = None

        if row["qvid"] is not None:
            forms_c = self._forms[row["name_id"]]
            matched, unmatched = tokens.get((row["qvid"], row["vid"]), ("", ""))
            label = {"primary": "primary name", "alias": "alias", "weak_alias": "weak alias"}[kind]
            text = (
                f"name similarity {name_score:.2f} to the {label} '{matched_name}'"
                f" (rarity-weighted token overlap {features['token_score']:.2f},"
                f" string similarity {features['string_score']:.2f};"
                f" matched tokens: {matched or 'none'}"
            )
            if unmatched:
                text += f"; unmatched query tokens: {unmatched}"
            qlegal, clegal = row.get("qlegal"), forms_c.legal_form
            if qlegal or clegal:
                text += f"; legal forms {qlegal or '-'}/{clegal or '-'} not scored"
            reasons_for.append(text + ")")
            features["matched_tokens"] = matched
            if row["from_weak"]:
                reasons_against.append(
                    "only a weak alias matched: it cannot give a match on its own"
                    f" (score capped at {cfg.weak_alias_cap:.2f})"
                )
                cap_decision = "possible"
            elif row["weak_support"]:
                score += cfg.weak_alias_support
                reasons_for.append(f"a weak alias also matches (+{cfg.weak_alias_support:.2f})")

        qcountry = row.get("qcountry")
        countries = self._entry_countries.get(entry_id, frozenset())
        if qcountry and countries:
            if qcountry in countries:
                score += cfg.country_bonus
                features["country"] = "same"
                reasons_for.append(f"country {qcountry} is among the entry's countries (+{cfg.country_bonus:.2f})")
            else:
                score -= cfg.country_penalty
                features["country"] = "different"
                reasons_against.append(
                    f"country {qcountry} is not among the entry's countries"
                    f" {', '.join(sorted(countries))} (-{cfg.country_penalty:.2f})"
                )

        query_ids = self._query_ids.get(qid, [])
        list_ids = self._entry_identifiers.get(entry_id, {})
        for ident in query_ids:
            if ident.is_valid is False:
                reasons_against.append(
                    f"query {ident.scheme} {ident.value} fails its check digit:"
                    " kept but not used for matching"
                )
                features.setdefault("invalid_identifiers", []).append(ident.value)
            elif ident.is_valid and ident.scheme in list_ids and ident.value not in list_ids[ident.scheme]:
                score -= cfg.identifier_conflict_penalty
                cap_decision = "no_match" if cap_decision is None or True else cap_decision
                features["identifier_conflict"] = f"{ident.scheme} {ident.value}"
                reasons_against.append(
                    f"query {ident.scheme} {ident.value} (valid) differs from the entry's"
                    f" {ident.scheme} {', '.join(sorted(list_ids[ident.scheme]))}"
                    f" (-{cfg.identifier_conflict_penalty:.2f})"
                )
            elif ident.scheme == "OTHER":
                reasons_against.append(
                    f"query identifier {ident.value} has no known scheme: not used"
                )

        score = min(1.0, max(0.0, score))
        decision = cfg.decide(score)
        if cap_decision is not None and DECISIONS.index(decision) < DECISIONS.index(cap_decision):
            decision = cap_decision
        id_match = facts.get("identifier_match")
        if id_match:
            features["identifier_match"] = id_match
            score, decision = 1.0, "match"
            kind = "primary" if row["qvid"] is None else kind
            head = (
                f"Identifier match: query {id_match} (valid) equals the list's {id_match}"
                f" of entry {entry_id}"
            )
            if row["qvid"] is None:
                reasons_for.insert(0, "the names share no blocking key")
                matched_name = self._entry_name.get(entry_id, matched_name)
        else:
            head = {"match": "Name match", "possible": "Possible name match",
                    "no_match": "No match"}[decision]  # fmt: skip
        explanation = head + ": " + "; ".join(reasons_for or ["no name evidence"])
        if reasons_against:
            explanation += ". Against: " + "; ".join(reasons_against)
        return {
            "qid": qid,
            "list_id": self.list_id,
            "entry_id": entry_id,
            "matched_name": matched_name,
            "matched_name_kind": kind,
            "score": round(score, 4),
            "decision": decision,
            "explanation": explanation + ".",
            "features": json.dumps(features, sort_keys=True),
            "identifier_match": bool(id_match),
        }

    # ------------------------------------------------------------------------ public API
    def _run(self, queries: pl.DataFrame, forced: pl.DataFrame | None) -> pl.DataFrame:
        qinfo, qvariants, qtokens = self._prepare(queries)
        id_pairs, id_facts = self._identifier_pairs()
        if forced is None:
            pairs = self._block(qvariants)
            related = id_pairs
            for qid, ids in self._query_ids.items():
                rows = [
                    (qid, entry_id)
                    for ident in ids
                    if ident.is_valid
                    for entry_id in self._by_identifier.get((ident.scheme, ident.value), ())
                ]
                if rows:
                    related = pl.concat(
                        [related, pl.DataFrame(rows, schema=related.schema, orient="row")]
                    )
            if related.height:
                extra = related.join(self._entry_names, on="entry_id").explode("name_id")
                pairs = pl.concat([pairs, extra.select("qid", "name_id")]).unique()
        else:
            pairs = forced.join(self._entry_names, on="entry_id").explode("name_id").select(
                "qid", "name_id"
            )
            id_facts = {k: v for k, v in id_facts.items()}
        scored = self._score_names(qvariants, qtokens, pairs)
        # Identifier matches whose names share nothing still need a row.
        if id_facts:
            have = set(zip(*self._entry_pairs(scored), strict=False))
            missing = [k for k in id_facts if k not in have]
        else:
            missing = []
        result = self._decide(qinfo, qtokens, scored, id_facts)
        if missing:
            blank = pl.DataFrame(
                [
                    {"qid": qid, "entry_id": entry_id, "name_score": None, "adjusted": 0.0,
                     "kind": "primary", "name": self._entry_name.get(entry_id, ""),
                     "token_score": None, "string_score": None, "exact": False, "qvid": None,
                     "vid": None, "name_id": None, "from_weak": False, "weak_support": False,
                     "qcountry": qinfo["qcountry"][qid], "qlegal": None}
                    for qid, entry_id in missing
                ]
            )  # fmt: skip
            extra_rows = [
                self._finish(r, id_facts[(r["qid"], r["entry_id"])], {}) for r in blank.to_dicts()
            ]
            result = pl.concat([result, pl.DataFrame(extra_rows, schema=_RESULT_SCHEMA)])
        return result.join(qinfo.select("qid", "qname"), on="qid")

    def _entry_pairs(self, scored: pl.DataFrame) -> tuple[list[int], list[str]]:
        rows = scored.join(self._names.select("name_id", "entry_id"), on="name_id")
        return rows["qid"].to_list(), rows["entry_id"].to_list()

    def screen(
        self, queries: pl.DataFrame, top: int = 3, min_score: float | None = None
    ) -> pl.DataFrame:
        """Best `top` candidates per query row (identifier matches first, then by score).

        `queries` needs a `name` column; `inn`, `ogrn`, `identifier` and `country` are
        optional. Returns one row per (query, candidate) with `query_row` (0-based position in
        `queries`), `query_name`, `list_id`, `entry_id`, `matched_name`, `matched_name_kind`,
        `score`, `decision`, `explanation` and `features` (JSON). Queries without a candidate
        scoring at least `min_score` (default `config.min_report_score`) have no row.
        """
        floor = self.config.min_report_score if min_score is None else min_score
        parts: list[pl.DataFrame] = []
        size = self.config.batch_size
        for start in range(0, max(queries.height, 1), size):
            batch = queries.slice(start, size)
            if not batch.height:
                break
            result = self._run(batch, None)
            parts.append(result.with_columns((pl.col("qid").cast(pl.Int64) + start).alias("qid")))
        result = pl.concat(parts) if parts else pl.DataFrame(schema=_RESULT_SCHEMA | {"qname": pl.String})
        return (
            result.filter((pl.col("score") >= floor) | pl.col("identifier_match"))
            .sort(["qid", "identifier_match", "score", "entry_id"], descending=[False, True, True, False])
            .group_by("qid", maintain_order=True)
            .head(top)
            .select(
                pl.col("qid").cast(pl.Int64).alias("query_row"),
                pl.col("qname").alias("query_name"),
                "list_id", "entry_id", "matched_name", "matched_name_kind", "score",
                "decision", "explanation", "features",
            )
        )  # fmt: skip

    def match(self, query: Query, top: int = 10, min_score: float | None = None) -> list[Candidate]:
        """Candidates for one query, best first."""
        frame = pl.DataFrame(
            [{"name": query.name, "inn": query.inn, "ogrn": query.ogrn,
              "identifier": query.identifier, "country": query.country}],
            schema={c: pl.String for c in ("name", "inn", "ogrn", "identifier", "country")},
        )  # fmt: skip
        return [_candidate(row) for row in self.screen(frame, top, min_score).iter_rows(named=True)]

    def score_pairs(self, pairs: pl.DataFrame) -> pl.DataFrame:
        """Score each row's query (`name`, optional identifier/country columns) against the
        list entry in its `entry_id` column, without blocking. Returns the input columns plus
        `score`, `decision`, `matched_name`, `matched_name_kind`, `explanation`, `features`;
        rows whose entry is not in the list or whose name is empty score 0."""
        indexed = pairs.with_row_index("qid")
        forced = indexed.select(pl.col("qid").cast(pl.UInt32), pl.col("entry_id").cast(pl.String))
        result = self._run(indexed.drop("qid"), forced)
        joined = indexed.with_columns(pl.col("qid").cast(pl.UInt32), pl.col("entry_id").cast(pl.String)).join(
            result.drop("qname", "list_id", "identifier_match"), on=["qid", "entry_id"], how="left"
        )
        return joined.with_columns(
            pl.col("score").fill_null(0.0), pl.col("decision").fill_null("no_match")
        ).sort("qid").drop("qid")

    def entries_count(self) -> int:
        return self._n_entries

    def names_count(self) -> int:
        return self._names.height


_RESULT_SCHEMA: dict[str, pl.DataType] = {
    "qid": pl.UInt32(),
    "list_id": pl.String(),
    "entry_id": pl.String(),
    "matched_name": pl.String(),
    "matched_name_kind": pl.String(),
    "score": pl.Float64(),
    "decision": pl.String(),
    "explanation": pl.String(),
    "features": pl.String(),
    "identifier_match": pl.Boolean(),
}


def _candidate(row: Mapping[str, Any]) -> Candidate:
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


def matcher_from_parsed(parsed: Any, config: MatchConfig | None = None, list_id: str = "sanctions") -> Matcher:
    """A Matcher over a `ParsedList` (assets.sanctions.model)."""
    return Matcher(parsed.entries, parsed.aliases, parsed.identifiers, config, list_id)


def candidates(frame: pl.DataFrame) -> Iterable[Candidate]:
    """Candidates of a `screen` result, in order."""
    return (_candidate(row) for row in frame.iter_rows(named=True))
