"""Benchmark: screen 100,000 distinct counterparty names against a full OFAC SDN snapshot.

Target: at most 30 s on 2 cores and a peak below 2 GB. Not part of the test suite; run with
`python benchmarks/screening.py [--queries N]`. The names are generated deterministically
(seeded): fictional company names with legal forms in several languages, Russian company
names in Cyrillic and in the GOST / ICAO / BGN romanizations, and perturbed real SDN names
(typos, word order, legal-form changes, extra words). The list is sdn_2024-02-23 (primary
names plus the weak aliases in its remarks). Wall time is measured with perf_counter and the
peak with getrusage: the maximum resident set size of this process plus that of the
matcher's worker process.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections.abc import Callable

from assets.common.paths import REFERENCE_DIR
from assets.resolution.names import transliterate

# The matcher, polars and the sanctions parser (which imports Dagster) are imported in main():
# the matcher's worker process is spawned, and a spawned process imports the main module again.
SNAPSHOT = REFERENCE_DIR / "sanctions" / "ofac_sdn" / "sdn_2024-02-23.csv"
SEED = 20240223


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SYLLABLES = _words(
    "ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no "
    "nu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo zo zu tek tron gen lux nova "
    "vex max ion tech star alp sol ter prom stan"
)
INDUSTRY = _words(
    "TRADING INDUSTRIES TECHNOLOGIES LOGISTICS ELECTRONICS MACHINERY SYSTEMS SUPPLY "
    "ENGINEERING COMPONENTS INTERNATIONAL GROUP HOLDING IMPORT EXPORT SOLUTIONS PRECISION "
    "TOOLS DYNAMICS INSTRUMENTS AUTOMATION SERVICES METALS CHEMICALS ENERGY MARINE"
)
LEGAL = (
    "LLC", "LTD", "CO., LTD.", "LIMITED", "JSC", "OOO", "GMBH", "A.S.", "SP. Z O.O.", "INC.",
    "CORP.", "S.A.", "FZE", "TOO", "PLC", "B.V.", "AO", "PJSC", "LIMITED LIABILITY COMPANY",
)  # fmt: skip
CYR_STEMS = _words(
    "техно пром стан маш энерго спец строй авто электро хим транс мет инвест радио "
    "приборо снаб сервис комплект оптик лазер микро систем"
)
CYR_TAILS = ("сервис", "торг", "групп", "комплект", "снаб", "прибор", "тех", "лаб", "мир")
CYR_FORMS = ("ООО", "АО", "ЗАО", "ПАО", "ОАО")
CYR_LATIN_FORMS = ("OOO", "LLC", "AO", "JSC", "ZAO", "PAO")


def fictional(rng: random.Random) -> str:
    words = [
        "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).upper()
        for _ in range(rng.randint(1, 2))
    ]
    words += rng.sample(INDUSTRY, rng.randint(0, 2))
    return " ".join(words) + " " + rng.choice(LEGAL)


def russian(rng: random.Random) -> str:
    core = rng.choice(CYR_STEMS) + rng.choice(CYR_STEMS) + rng.choice(CYR_TAILS)
    extra = f" {rng.choice(CYR_STEMS)}{rng.choice(CYR_TAILS)}" if rng.random() < 0.3 else ""
    name = (core + extra).upper()
    if rng.random() < 0.4:
        return f"{rng.choice(CYR_FORMS)} «{name}»"
    scheme = rng.choice(("gost_7_79", "icao_9303", "bgn_pcgn"))
    return f"{rng.choice(CYR_LATIN_FORMS)} {transliterate(name.lower(), scheme).upper()}"


def perturbed(rng: random.Random, names: list[str]) -> str:
    tokens = rng.choice(names).replace(",", " ").split()
    edits: list[Callable[[list[str]], list[str]]] = [
        lambda t: t[::-1],
        lambda t: [*t, rng.choice(LEGAL)],
        lambda t: [*t, rng.choice(INDUSTRY)],
        lambda t: t[1:] if len(t) > 2 else t,
    ]
    tokens = rng.choice(edits)(tokens)
    i = rng.randrange(len(tokens))
    word = tokens[i]
    if len(word) > 4:
        j = rng.randrange(1, len(word) - 1)
        word = word[:j] + rng.choice("AEIOUYKS") + word[j + 1 :]
        tokens[i] = word
    return " ".join(tokens)


def generate(count: int, sdn_names: list[str], seed: int = SEED) -> list[str]:
    """`count` distinct names: 60% fictional, 20% Russian (Cyrillic or romanized), 20%
    perturbed real SDN names."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        draw = rng.random()
        if draw < 0.6:
            name = fictional(rng)
        elif draw < 0.8:
            name = russian(rng)
        else:
            name = perturbed(rng, sdn_names)
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=100_000)
    args = parser.parse_args(argv)
    import polars as pl

    from assets.resolution.matcher import Matcher
    from assets.sanctions import ofac_sdn

    parsed = ofac_sdn.parse(SNAPSHOT.read_bytes())
    names = generate(args.queries, parsed.entries["name"].to_list())
    queries = pl.DataFrame({"name": names})

    cpu_started = time.process_time()
    started = time.perf_counter()
    matcher = Matcher(parsed.entries, parsed.aliases, parsed.identifiers, list_id="ofac_sdn")
    built = time.perf_counter() - started
    started = time.perf_counter()
    result = matcher.screen(queries, top=3)
    screened = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    main_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The worker process (`workers` setting) has ended by now: its CPU time and peak are the
    # children's. Both peaks are added, as if they had been reached at the same moment.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = children.ru_utime + children.ru_stime
    worker_mb = children.ru_maxrss / 1024
    peak_mb = main_mb + worker_mb

    best = result.unique("query_row", keep="first")
    decisions = dict(best.group_by("decision").len().iter_rows())
    total = built + screened
    print(
        f"list: {SNAPSHOT.name}, {matcher.entries_count:,} entries, "
        f"{matcher.names_count:,} names (primary + remark aliases)"
    )
    print(f"queries: {len(names):,} distinct names")
    print(f"build matcher:  {built:6.2f} s")
    print(f"screen queries: {screened:6.2f} s  ({len(names) / screened:,.0f} names/s)")
    print(
        f"total:          {total:6.2f} s   target <= 30 s -> {'met' if total <= 30 else 'MISSED'}"
    )
    print(
        f"CPU time:       {cpu:6.2f} s + worker {worker_cpu:.2f} s  (all threads; wall time rises"
        " when others load the cores)"
    )
    print(f"peak RSS:       {peak_mb:6.0f} MB  (main {main_mb:.0f} + worker {worker_mb:.0f})  "
          f"target < 2048 MB -> {'met' if peak_mb < 2048 else 'MISSED'}")  # fmt: skip
    print(
        f"candidate rows: {result.height:,}; queries with a candidate >= 0.50: {best.height:,} "
        f"(best decision: {decisions.get('match', 0):,} match, "
        f"{decisions.get('possible', 0):,} possible, {decisions.get('no_match', 0):,} no_match)"
    )
    return 0 if total <= 30 and peak_mb < 2048 else 1


if __name__ == "__main__":
    sys.exit(main())
