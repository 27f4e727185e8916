"""A labelled evaluation set built from real list data, and precision / recall / F1.

Pairs (query name, list entry, label), all read at run time from `../shared/reference-data`:

* OFAC positives: each strong alias in alt_2021-04-25.csv against its own entry's primary name
  in sdn_2021-04-25.csv, kept when the alias is a different rendering of the same name (see
  `is_variant`); aliases that are other names altogether (translations, acronyms, noms de
  guerre, former names) cannot be found by name similarity and are counted apart.
* EU cross-script positives: the Cyrillic aliases of the EU Russia-regime transcriptions
  (CC BY-NC, read in place, never copied) against the row's Latin name, with the same filter.
* Negatives: the same queries against a different entry of the same source sharing a token
  with them, one drawn at random and one sharing the most tokens (ties drawn at random),
  seeded. Entries whose name has the query's `fingerprints` form are left out: two entities
  with one name cannot be told apart by name (the same entity in OFAC and in the EU file
  would be a false "negative" too, hence the same-source rule). An entry whose name meets the
  positive criterion against the query or the query's own entity is a namesake (family
  members, branches sharing a name): one per query is kept as pair kind `namesake`, reported
  apart and left out of the headline figures, since no name matcher can tell them apart.

Each pair belongs to the dev or test split by a hash of its query's entity, so thresholds
tuned on dev are reported on test. The baseline is rapidfuzz `token_sort_ratio` over
`fingerprints.generate` forms. Run `python -m assets.resolution.evaluation` for the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
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
    "pair_kind": pl.String(),  # variant | random_negative | hard_negative | namesake
    "split": pl.String(),  # dev | test
}
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


def load_eval_list(shared_dir: Path) -> pl.DataFrame:
    """The list the evaluation screens against: OFAC 2021 primary names plus one row per
    distinct Latin name of the EU transcriptions (entry ids `eu:<celex>:row<n>`), with
    the EU Cyrillic aliases in `eu_aliases` (not part of the list)."""
    root = Path(shared_dir)
    parsed = ofac_sdn.parse((root / OFAC_SDN).read_bytes())
    ofac = parsed.entries.select(
        "entry_id",
        "entity_type",
        "name",
        "countries",
        pl.lit("ofac").alias("source"),
        pl.lit([], dtype=pl.List(pl.String)).alias("eu_aliases"),
    )
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
                },
            )
            for alias in _eu_aliases(row["alias"]):
                if alias not in entry["eu_aliases"]:
                    entry["eu_aliases"].append(alias)
    eu = pl.DataFrame(list(rows.values()), schema=ofac.schema)
    return pl.concat([ofac, eu])


def eval_matcher(shared_dir: Path, config: MatchConfig | None = None) -> Matcher:
    """A Matcher over `load_eval_list` (primary names only: the aliases are the queries)."""
    return Matcher(load_eval_list(shared_dir), config=config, list_id="eval")


def _negative(
    query: tuple[str, str, str, str, str], target: tuple[Any, ...], kind: str
) -> dict[str, Any]:
    """One negative pair: a query (source, entity, name, entity_type, split) and a list entry."""
    source, entity, name, entity_type, split = query
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
    }


def _negatives(
    queries: list[tuple[str, str, str, str, str]],
    targets: pl.DataFrame,
    rng: random.Random,
) -> list[dict[str, Any]]:
    """Two negatives per query (source, entity, name, entity_type, split): a random entry of
    the same source sharing a token of 3+ letters, and the one sharing most (ties at random)."""
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
    out: list[dict[str, Any]] = []
    for source, entity, name, entity_type, split in queries:
        tokens = simple_tokens(name)
        query_print = fingerprints.generate(name) or ""
        list_source = "ofac" if source == "ofac_alias" else "eu"
        own = position.get(entity)
        own_key = sorted(target_tokens[own]) if own is not None else None
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
            and sorted(target_tokens[i]) != sorted(tokens)
            and sorted(target_tokens[i]) != own_key
        )
        own_tokens = target_tokens[own] if own is not None else tokens
        namesakes = [
            i
            for i in pool
            if is_variant(tokens, target_tokens[i]) or is_variant(own_tokens, target_tokens[i])
        ]
        query = (source, entity, name, entity_type, split)
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


def build_eval_set(shared_dir: Path, include_non_variants: bool = False) -> pl.DataFrame:
    """The labelled pairs (columns of `EVAL_SCHEMA`), deterministic for a given shared dir.

    With `include_non_variants`, aliases failing `is_variant` are added as positives of
    kind `other_name` (for reporting how many a name matcher cannot find).
    """
    root = Path(shared_dir)
    targets = load_eval_list(root)
    rng = random.Random(SEED)
    positives: list[dict[str, Any]] = []
    queries: list[tuple[str, str, str, str, str]] = []

    def add(source: str, entity: str, query: str, target: str, etype: str) -> None:
        split = _split_of(f"{source}:{entity}")
        variant = is_variant(simple_tokens(query), simple_tokens(target))
        if not variant and not include_non_variants:
            return
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
            }
        )
        if variant:
            queries.append((source, entity, query, etype, split))

    ofac = ofac_sdn.parse((root / OFAC_SDN).read_bytes(), (root / OFAC_ALT).read_bytes())
    strong = ofac.aliases.filter(pl.col("quality") == "strong").join(
        ofac.entries.select("entry_id", "name", "entity_type"), on="entry_id"
    )
    for entry_id, alias, name, etype in strong.select(
        "entry_id", "alias", "name", "entity_type"
    ).iter_rows():
        if alias.strip().casefold() != name.strip().casefold():
            add("ofac_alias", entry_id, alias, name, etype)
    for entry_id, name, etype, aliases in (
        targets.filter(pl.col("source") == "eu")
        .select("entry_id", "name", "entity_type", "eu_aliases")
        .iter_rows()
    ):
        for alias in aliases:
            add("eu_cyrillic", entry_id, alias, name, etype)

    negatives = _negatives(queries, targets, rng)
    frame = pl.DataFrame(positives + negatives, schema=EVAL_SCHEMA)
    return frame.unique(["name", "entry_id"], keep="first", maintain_order=True)


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


def report(shared_dir: Path, config: MatchConfig | None = None) -> dict[str, Any]:
    """Every figure the README quotes: set sizes, matcher and baseline on dev and test."""
    config = config or MatchConfig()
    eval_set = build_eval_set(shared_dir)
    matcher = eval_matcher(shared_dir, config)
    scored = eval_set.with_columns(
        matcher_scores(matcher, eval_set).alias("score"), baseline_scores(eval_set)
    )
    headline = scored.filter(pl.col("pair_kind") != "namesake")
    dev = headline.filter(pl.col("split") == "dev")
    test = headline.filter(pl.col("split") == "test")
    namesakes = scored.filter((pl.col("pair_kind") == "namesake") & (pl.col("split") == "test"))
    baseline_threshold = best_threshold(dev["baseline"], dev["label"], SWEEP)
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
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared/ folder")
    parser.add_argument("--errors", type=int, default=0, help="print this many errors per kind")
    args = parser.parse_args(argv)
    if not (args.shared / OFAC_SDN).exists():
        print(f"{args.shared / OFAC_SDN} not found: evaluation set unavailable")
        return 1
    result = report(args.shared)
    with pl.Config(tbl_rows=20):
        print(result["sizes"])

    def line(label: str, m: dict[str, Any]) -> str:
        return (
            f"{label:<34} P={m['precision']:.4f} R={m['recall']:.4f} F1={m['f1']:.4f}"
            f"  (tp={m['tp']} fp={m['fp']} fn={m['fn']} tn={m['tn']})"
        )

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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
