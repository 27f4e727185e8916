"""Screening of counterparty names and identifiers against one sanctions list.

`Matcher` is built from the list model's frames (entries, aliases, identifiers) and wires the
parts together: names (`names.py`, with the Russian organisational terms of `vocabulary.py`),
blocking (`blocking.py`), scoring (`scoring.py`), the rules (`rules.py`, weights in
`matching.yaml`), the explanations (`explanation.py`) and identifiers (`identifiers.py`).

1. Identifiers. A query's RU INN / OGRN that passes its check (python-stdnum) and equals a
   valid list identifier is an identifier match: score 1, decision `match`, ranked above every
   name match. An identifier failing its check is kept, flagged and never joined; a valid
   identifier differing from the candidate's of the same scheme forbids `match`.
2. Names. Short forms in parentheses and "a.k.a." parts are names of their own. Candidates are
   blocked on tokens, joined tokens, metaphone keys and acronyms, then scored over every
   romanization of both names (rarity-weighted token overlap blended with string similarity);
   a one-word name equal to the other's acronym scores `acronym_score`, less when common.
3. Rules add evidence for and against: weak aliases, short names, countries, legal-form and
   entity-type conflicts, a subsidiary's extra words, ambiguity between entries.

`screen` is vectorised (polars joins plus rapidfuzz `cpdist`); `match` screens one `Query`;
`score_pairs` scores given (query, entry) pairs without blocking, for evaluation.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import polars as pl

from assets.resolution.blocking import block
from assets.resolution.config import MatchConfig
from assets.resolution.explanation import explain_all, matched_tokens
from assets.resolution.identifiers import (
    Candidate,
    IdentifierIndex,
    Query,
    QueryIdentifier,
    parse_identifiers,
    to_candidate,
)
from assets.resolution.listed_names import NameRecord, NameRecords
from assets.resolution.names import ACRONYM_MIN_LENGTH, name_parts
from assets.resolution.queries import SEP, Helper, QueryNames, lay_out
from assets.resolution.rules import decide
from assets.resolution.scoring import ListVariants, TokenTable, score_names
from assets.sanctions.countries import to_iso2

__all__ = [
    "Candidate",
    "MatchConfig",
    "Matcher",
    "Query",
    "QueryIdentifier",
    "matcher_from_parsed",
    "parse_identifiers",
    "to_candidate",
]

DECISIONS = ("match", "possible", "no_match")
NAME_KINDS = ("primary", "alias", "weak_alias")
_KIND_RANK = {kind: rank for rank, kind in enumerate(NAME_KINDS)}
_PERSON_TYPES = {"person", "individual", "natural_person"}
_ORG_TYPES = {"organisation", "organization", "entity", "company", "legal_entity"}


def _iso2(country: str | None) -> str | None:
    text = str(country or "").strip()
    if not text:
        return None
    return text.upper() if len(text) == 2 and text.isalpha() else to_iso2(text)


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
        records: NameRecords | None = None,
    ) -> None:
        """The matcher of one list; `records` gives the names' records kept from an earlier
        build (`listed_names`), and keeps those of this one."""
        self.config = config or MatchConfig()
        self.list_id = list_id
        ids = entries["entry_id"].cast(pl.String).to_list()
        height = len(ids)
        countries = entries["countries"].to_list() if "countries" in entries.columns else None
        types = entries["entity_type"].to_list() if "entity_type" in entries.columns else None
        self._entry_name = dict(zip(ids, entries["name"].to_list(), strict=True))
        self._entries = pl.DataFrame(
            {
                "entry_id": ids,
                "countries": [sorted(c or []) for c in (countries or [[]] * height)],
                "etype": types or [None] * height,
            },
            schema={"entry_id": pl.String, "countries": pl.List(pl.String), "etype": pl.String},
        )
        names: dict[tuple[str, str], str] = {}

        def add(entry_id: str, name: str, kind: str) -> None:
            previous = names.get((entry_id, name))
            if previous is None or _KIND_RANK[kind] < _KIND_RANK[previous]:
                names[(entry_id, name)] = kind

        listed = [(entry_id, name, "primary") for entry_id, name in self._entry_name.items()]
        if aliases is not None and aliases.height:
            quality = (
                aliases["quality"].to_list()
                if "quality" in aliases.columns
                else [None] * aliases.height
            )
            for entry_id, alias, alias_quality in zip(
                aliases["entry_id"].cast(pl.String).to_list(),
                aliases["alias"].to_list(),
                quality,
                strict=True,
            ):
                if alias and entry_id in self._entry_name:
                    listed.append(
                        (entry_id, alias, "weak_alias" if alias_quality == "weak" else "alias")
                    )
        for entry_id, name, kind in listed:
            if not name:
                continue
            whole, *inner = name_parts(name)
            add(entry_id, whole, kind)
            for part in inner:  # short forms and a.k.a. parts inside a name are aliases
                add(entry_id, part, "weak_alias" if kind == "weak_alias" else "alias")
        self._build_name_index(names, records)
        self._identifiers = IdentifierIndex(identifiers)
        self._query_ids: dict[int, list[QueryIdentifier]] = {}
        self._qacronyms = pl.DataFrame(schema={"qid": pl.UInt32, "akey": pl.String})

    # ----------------------------------------------------------------------------- index
    def _build_name_index(
        self, names: dict[tuple[str, str], str], records: NameRecords | None
    ) -> None:
        records = records if records is not None else NameRecords()
        # each indexed name's record: needed to build the index, not to screen (not kept, so a
        # kept matcher loads in half the time)
        listed: list[NameRecord] = []
        name_rows: list[tuple[Any, ...]] = []
        variant_rows: list[tuple[Any, ...]] = []
        for (entry_id, name), kind in names.items():
            record = records[name]
            if record is None:
                continue
            name_id = len(listed)
            listed.append(record)
            name_rows.append(
                (name_id, entry_id, name, kind, record.weight, record.legal_form,
                 record.legal_group)
            )  # fmt: skip
            for variant, compact in zip(record.variants, record.compacts, strict=True):
                variant_rows.append(
                    (len(variant_rows), name_id, SEP.join(variant), " ".join(sorted(variant)),
                     compact)
                )  # fmt: skip
        self._names = pl.DataFrame(
            name_rows,
            schema={
                "name_id": pl.UInt32,
                "entry_id": pl.String,
                "name": pl.String,
                "kind": pl.String,
                "cweight": pl.Float64,
                "clegal": pl.String,
                "cgroup": pl.String,
            },
            orient="row",
        )
        variants = pl.DataFrame(
            variant_rows,
            schema={
                "vid": pl.UInt32,
                "name_id": pl.UInt32,
                "ctokens": pl.String,
                "cjoined": pl.String,
                "ccompact": pl.String,
            },
            orient="row",
        ).with_columns(pl.col("ctokens").str.split(SEP))
        entry_of = self._names.select("name_id", "entry_id")
        # in how many entries each token and each blocking key is found
        token_entries = (
            variants.select("name_id", pl.col("ctokens").alias("token"))
            .explode("token")
            .join(entry_of, on="name_id")
            .group_by("token")
            .agg(pl.col("entry_id").n_unique().alias("entries"))
        )
        self._tokens = TokenTable(
            self.config,
            dict(
                zip(
                    token_entries["token"].to_list(),
                    token_entries["entries"].to_list(),
                    strict=True,
                )
            ),
            len(self._entry_name),
        )
        self._vtokens = self._explode_tokens(variants, "vid", "ctokens", "cpos", "ctok")
        self._listed = ListVariants(self._tokens, variants)
        name_keys = pl.DataFrame(  # flat: a list column from Python lists is built list by list
            {
                "key": [key for record in listed for key in record.keys],
                "name_id": [i for i, record in enumerate(listed) for _ in record.keys],
            },
            schema={"key": pl.String, "name_id": pl.UInt32},
        )
        key_entries = (
            name_keys.join(entry_of, on="name_id")
            .group_by("key")
            .agg(pl.col("entry_id").n_unique().alias("entries"))
        )
        # idf of each count, as `TokenTable.idf` gives it (a few hundred distinct counts)
        idf = {n: self._tokens.idf(n) for n in key_entries["entries"].unique().to_list()}
        weighted = key_entries.filter(
            (pl.col("entries") <= self.config.max_key_frequency)
            | pl.col("key").str.starts_with("f:")
        ).select("key", pl.col("entries").replace_strict(idf, return_dtype=pl.Float64).alias("kw"))
        self._keys = name_keys.join(weighted, on="key", maintain_order="left")
        # acronym keys of the list: a name's acronyms ("acro") and one-word names ("single")
        self._acronyms = pl.DataFrame(
            [(name_id, a, "acro") for name_id, record in enumerate(listed) for a in record.acronyms]
            + [
                (name_id, variant[0], "single")
                for name_id, record in enumerate(listed)
                for variant in record.variants
                if len(variant) == 1
                and variant[0].isalpha()
                and len(variant[0]) >= ACRONYM_MIN_LENGTH
            ],
            schema={"name_id": pl.UInt32, "akey": pl.String, "side": pl.String},
            orient="row",
        ).unique()
        acronym_keys = key_entries.filter(pl.col("key").str.starts_with("a:"))
        self._acronym_weight = {
            key[2:]: idf[entries] / self._tokens.unseen
            for key, entries in zip(
                acronym_keys["key"].to_list(), acronym_keys["entries"].to_list(), strict=True
            )
        }
        self._entry_names = self._names.group_by("entry_id").agg("name_id")

    def token_weight(self, token: str) -> float:
        """Rarity weight (idf over list entries) of a skeleton token; unknown tokens weigh most."""
        return self._tokens.weight(token)

    def _explode_tokens(
        self, frame: pl.DataFrame, vid: str, tokens: str, pos: str, token: str
    ) -> pl.DataFrame:
        return (
            frame.select(vid, tokens)
            .with_columns(
                pl.int_ranges(pl.col(tokens).list.len()).cast(pl.List(pl.UInt32)).alias(pos)
            )
            .explode(tokens, pos)
            .rename({tokens: token})
        )

    @property
    def entries_count(self) -> int:
        return self._tokens.n_entries

    @property
    def names_count(self) -> int:
        return self._names.height

    # --------------------------------------------------------------------------- queries
    def _prepare(
        self, queries: pl.DataFrame, laid: QueryNames | None = None
    ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(query info, query variants, query variant tokens, blocking keys) with qid = row
        position (`laid`: the names already laid out)."""
        if "name" not in queries.columns:
            raise ValueError("queries need a `name` column")
        height = queries.height

        def column(name: str) -> list[Any]:
            if name not in queries.columns:
                return [None] * height
            return queries[name].cast(pl.String).to_list()

        names, inns, ogrns, others, countries, types = (
            column(c) for c in ("name", "inn", "ogrn", "identifier", "country", "entity_type")
        )
        names = [name or "" for name in names]
        if laid is None:
            laid = lay_out([name_parts(name) for name in names])
        qtypes: list[str | None] = []
        for given, is_org in zip(types, laid.is_org, strict=True):
            given = str(given or "").strip().lower()
            qtypes.append(
                "person"
                if given in _PERSON_TYPES
                else "organisation"
                if given in _ORG_TYPES or (not given and is_org)
                else None
            )
        self._query_ids = {
            qid: parse_identifiers(inns[qid], ogrns[qid], others[qid])
            for qid in range(height)
            if inns[qid] or ogrns[qid] or others[qid]
        }
        qinfo = pl.DataFrame(
            {
                "qid": pl.int_range(height, dtype=pl.UInt32, eager=True),
                "qname": names,
                "qweight": laid.weight,
                "qlegal": laid.legal,
                "qgroup": laid.group,
                "qtype": qtypes,
                "qcountry": [_iso2(country) for country in countries],
            },
            schema={
                "qid": pl.UInt32,
                "qname": pl.String,
                "qweight": pl.Float64,
                "qlegal": pl.String,
                "qgroup": pl.String,
                "qtype": pl.String,
                "qcountry": pl.String,
            },
        )
        self._qacronyms = pl.DataFrame(
            {"qid": laid.aq, "akey": laid.akey}, schema={"qid": pl.UInt32, "akey": pl.String}
        ).unique()
        qvariants = pl.DataFrame(
            {
                "qvid": pl.int_range(len(laid.vq), dtype=pl.UInt32, eager=True),
                "qid": laid.vq,
                "qtokens": laid.tokens,
                "qjoined": laid.joined,
                "qcompact": laid.compact,
            },
            schema={
                "qvid": pl.UInt32,
                "qid": pl.UInt32,
                "qtokens": pl.String,
                "qjoined": pl.String,
                "qcompact": pl.String,
            },
        ).with_columns(pl.col("qtokens").str.split(SEP))
        qkeys = pl.DataFrame(
            {"qid": laid.kq, "key": laid.key}, schema={"qid": pl.UInt32, "key": pl.String}
        )
        qtokens = self._explode_tokens(qvariants, "qvid", "qtokens", "qpos", "qtok")
        return qinfo, qvariants, qtokens, qkeys

    # --------------------------------------------------------------------------- scoring
    def _score(self, qvariants: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
        """Name scores of the candidate pairs, with acronym matches raised to their score."""
        scored = score_names(self._tokens, self._listed, qvariants, pairs)
        qkeys = (
            pl.concat(
                [
                    self._qacronyms.with_columns(side=pl.lit("acro")),
                    qvariants.filter(pl.col("qtokens").list.len() == 1).select(
                        "qid", pl.col("qtokens").list.first().alias("akey"), side=pl.lit("single")
                    ),
                ]
            )
            .drop_nulls()
            .unique()
        )
        found = (
            qkeys.join(self._acronyms, on="akey")
            .filter(pl.col("side") != pl.col("side_right"))
            .join(pairs, on=["qid", "name_id"], how="semi")
            .with_columns(
                (
                    pl.col("akey").replace_strict(
                        self._acronym_weight, default=1.0, return_dtype=pl.Float64
                    )
                    * self.config.acronym_score
                ).alias("acronym_score")
            )
            .group_by("qid", "name_id")
            .agg(pl.col("acronym_score").max())
        )
        raised = pl.col("acronym_score").fill_null(0.0) > pl.col("name_score")
        return (
            scored.join(found, on=["qid", "name_id"], how="left")
            .with_columns(
                raised.alias("acronym"),
                pl.when(raised)
                .then(pl.col("acronym_score"))
                .otherwise(pl.col("name_score"))
                .alias("name_score"),
            )
            .drop("acronym_score")
        )

    def _decide(
        self, qinfo: pl.DataFrame, scored: pl.DataFrame, facts: pl.DataFrame
    ) -> pl.DataFrame:
        """One row per (qid, entry_id): best name, then the rules (`rules.decide`)."""
        cfg = self.config
        named = (
            scored.join(self._names, on="name_id")
            .with_columns(
                pl.col("kind").replace_strict(_KIND_RANK, return_dtype=pl.Int32).alias("rank")
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
            pl.col("acronym").fill_null(False),
        )
        merged = merged.join(facts, on=["qid", "entry_id"], how="left").join(qinfo, on="qid")
        merged = (
            self._identifiers.add_conflicts(merged, self._query_ids)
            .join(self._entries, on="entry_id", how="left")
            .with_columns(pl.lit(self._tokens.unseen).alias("unseen"))
        )
        return decide(merged, cfg).with_columns(
            pl.col("name").fill_null(
                pl.col("entry_id").replace_strict(self._entry_name, default=None)
            ),
            pl.col("kind").fill_null("primary"),
        )

    def _report(
        self, decided: pl.DataFrame, explained: tuple[list[str], list[str]]
    ) -> pl.DataFrame:
        texts, features = explained
        return decided.with_columns(
            pl.Series("explanation", texts, dtype=pl.String),
            pl.Series("features", features, dtype=pl.String),
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
        if "name" not in queries.columns:
            raise ValueError("queries need a `name` column")
        size = self.config.batch_size
        starts = range(0, queries.height, size)
        names = [name or "" for name in queries["name"].cast(pl.String).to_list()]
        with Helper([names[i : i + size] for i in starts], self.config.workers) as helper:
            return self._screen(queries, helper, top, floor)

    def _screen(
        self, queries: pl.DataFrame, helper: Helper, top: int, floor: float
    ) -> pl.DataFrame:
        cfg, size = self.config, self.config.batch_size
        starts = range(0, queries.height, size)
        # (batch start, decided rows, their explanations: computed, or a worker's future)
        done: list[tuple[int, pl.DataFrame, Any]] = []
        for start, laid in zip(starts, helper.laid_out(), strict=True):
            batch = queries.slice(start, size)
            qinfo, qvariants, qtokens, qkeys = self._prepare(batch, laid)
            facts = self._identifiers.facts(self._query_ids)
            pairs = pl.concat(
                [
                    block(qkeys, self._qacronyms, self._keys, self.config.max_candidates),
                    facts.join(self._entry_names, on="entry_id")
                    .explode("name_id")
                    .select("qid", "name_id"),
                ]
            ).unique()
            decided = (
                self._decide(qinfo, self._score(qvariants, pairs), facts)
                .filter((pl.col("score") >= floor) | pl.col("id_match").is_not_null())
                .sort(
                    ["qid", "id_match", "score", "entry_id"],
                    descending=[False, True, True, False],
                    nulls_last=True,
                )
                .group_by("qid", maintain_order=True)
                .head(top)
            )
            tokens = matched_tokens(self._tokens, qtokens, self._vtokens, decided)
            # a worker explains while the next batch is scored (the last one is explained here)
            job = None if start == starts[-1] else helper.submit(explain_all, decided, tokens, cfg)
            done.append((start, decided, explain_all(decided, tokens, cfg) if job is None else job))
        parts = [
            self._report(decided, job.result() if isinstance(job, Future) else job).with_columns(
                pl.col("query_row") + start
            )
            for start, decided, job in done
        ]
        if not parts:
            return pl.DataFrame(schema=dict.fromkeys(RESULT_COLUMNS, pl.String)).with_columns(
                pl.col("query_row").cast(pl.Int64), pl.col("score").cast(pl.Float64)
            )
        return pl.concat(parts)

    def match(self, query: Query, top: int = 10, min_score: float | None = None) -> list[Candidate]:
        """Candidates for one query, best first."""
        frame = pl.DataFrame(
            [
                [
                    query.name,
                    query.inn,
                    query.ogrn,
                    query.identifier,
                    query.country,
                    query.entity_type,
                ]
            ],
            schema=dict.fromkeys(
                ("name", "inn", "ogrn", "identifier", "country", "entity_type"), pl.String
            ),
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
        qinfo, qvariants, qtokens, _ = self._prepare(queries)
        facts = self._identifiers.facts(self._query_ids)
        wanted = queries.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("qid"), "entry_id")
        facts = facts.join(wanted, on=["qid", "entry_id"], how="semi")
        name_pairs = (
            wanted.join(self._entry_names, on="entry_id")
            .explode("name_id")
            .select("qid", "name_id")
        )
        decided = self._decide(qinfo, self._score(qvariants, name_pairs), facts)
        if explain:
            tokens = matched_tokens(self._tokens, qtokens, self._vtokens, decided)
            result = self._report(decided, explain_all(decided, tokens, self.config))
            result = result.rename({"query_row": "qid"})
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


def matcher_from_parsed(
    parsed: Any, config: MatchConfig | None = None, list_id: str = "sanctions"
) -> Matcher:
    """A Matcher over a `ParsedList` (assets.sanctions.model)."""
    return Matcher(parsed.entries, parsed.aliases, parsed.identifiers, config, list_id)
