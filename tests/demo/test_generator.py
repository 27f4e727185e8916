"""The demo generator is deterministic and the files contain exactly what demo/spec.py plants."""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import pytest
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

from demo import spec
from demo.generate import generate

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLE = REPO_ROOT / "demo" / "bundle"
SHARED = REPO_ROOT / ".." / "shared" / "reference-data"
ID_PATTERN = re.compile(r"^\d{8}/\d{6}/\d{7}$")


def shared_file(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"../shared/reference-data not present: {relative} unavailable")
    return path


def digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    generate(out)
    return out


@pytest.fixture(scope="module")
def customs(bundle: Path) -> list[dict[str, str]]:
    """Every customs row, with `_month` (the file's month) and `_row` (1-based data row)."""
    rows = []
    for month in spec.MONTHS:
        for number, row in enumerate(read_csv(bundle / f"customs/declarations_{month}.csv"), 1):
            rows.append({**row, "_month": month, "_row": str(number)})
    return rows


def malformed_keys() -> set[tuple[str, tuple[str, ...]]]:
    return {(bad.month, bad.values) for bad in spec.malformed_rows()}


def is_malformed(row: dict[str, str]) -> bool:
    values = tuple(row[c] for c in spec.CUSTOMS_COLUMNS)
    return (row["_month"], values) in malformed_keys()


@pytest.fixture(scope="module")
def valid_customs(customs: list[dict[str, str]]) -> list[dict[str, str]]:
    return [row for row in customs if not is_malformed(row)]


def usd(row: dict[str, str]) -> Decimal:
    return Decimal(row["statistical_value_usd"])


# ----------------------------------------------------------------------------- determinism


@pytest.fixture(scope="module")
def seed_11(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A generation with a seed other than the default: its folder and the files it wrote."""
    out = tmp_path_factory.mktemp("seed_11")
    return out, sorted(generate(out, seed=11))


def test_same_seed_gives_identical_files(tmp_path: Path, seed_11: tuple[Path, list[str]]) -> None:
    first_dir, first = seed_11
    second = generate(tmp_path / "b", seed=11)
    assert first == sorted(second)
    assert digests(first_dir) == digests(tmp_path / "b")
    assert len([p for p in first if p.startswith("customs/")]) == 36
    assert len([p for p in first if p.startswith("trade_statistics/")]) == 36


def test_different_seed_changes_customs_files(
    bundle: Path, seed_11: tuple[Path, list[str]]
) -> None:
    assert spec.DEFAULT_SEED != 11  # the bundle's seed is another one
    a, b = digests(seed_11[0]), digests(bundle)
    customs = [name for name in a if name.startswith("customs/")]
    assert customs and all(a[name] != b[name] for name in customs)


def test_committed_bundle_is_a_fresh_default_generation(bundle: Path) -> None:
    if not BUNDLE.is_dir():
        pytest.fail("demo/bundle is missing: run `make bundle`")
    assert digests(BUNDLE) == digests(bundle)


def test_files_are_utf8_with_unix_newlines(bundle: Path) -> None:
    for path in bundle.rglob("*.csv"):
        data = path.read_bytes()
        assert b"\r" not in data, path
        assert not data.startswith(b"\xef\xbb\xbf"), path
        data.decode("utf-8")


# ----------------------------------------------------------------------------- identifiers


def test_importer_inns_valid_except_the_documented_ones(customs: list[dict[str, str]]) -> None:
    documented = {i.declared_inn for i in spec.invalid_inn_importers()}
    invalid = {r["importer_inn"] for r in customs if r["importer_inn"]}
    invalid = {inn for inn in invalid if not ru_inn.is_valid(inn)}
    assert invalid == documented
    empty = [r for r in customs if not r["importer_inn"]]
    assert all(is_malformed(r) for r in empty)
    for importer in spec.invalid_inn_importers():
        assert ru_inn.is_valid(importer.registered_inn)
        rows = [r for r in customs if r["importer_inn"] == importer.declared_inn]
        assert rows, importer
        assert not any(is_malformed(r) for r in rows)


def test_registry_identifiers(bundle: Path, customs: list[dict[str, str]]) -> None:
    registry = read_csv(bundle / "tax/company_registry.csv")
    inns = [row["inn"] for row in registry]
    assert len(inns) == len(set(inns))
    for row in registry:
        assert ru_inn.is_valid(row["inn"]) and len(row["inn"]) == 10, row
        assert ru_ogrn.is_valid(row["ogrn"]) and len(row["ogrn"]) == 13, row
        assert row["kpp"][:4] == row["inn"][:4] and len(row["kpp"]) == 9, row
        assert re.fullmatch(r"[А-ЯЁ0-9 \"\-]+", row["name_ru"]), row
    invalid = {i.declared_inn: i.registered_inn for i in spec.invalid_inn_importers()}
    importers = {invalid.get(r["importer_inn"], r["importer_inn"]) for r in customs}
    buyers = {r["buyer_inn"] for r in read_csv(bundle / "tax/sales_invoices.csv")}
    assert (importers | buyers) - {""} <= set(inns)
    counterparty = next(r for r in registry if r["inn"] == spec.SANCTIONED_COUNTERPARTY.inn)
    assert counterparty["ogrn"] == spec.SANCTIONED_COUNTERPARTY.ogrn
    assert counterparty["name_short_ru"] == 'ООО "ИНВЕСТ СТАНКО"'


def test_decoy_is_distinct_and_benign(valid_customs: list[dict[str, str]]) -> None:
    chpl = {row["hs6"] for row in read_csv(shared_file("hs-codes/chpl_hs6_2024-02-23.csv"))}
    assert spec.DECOY.inn != spec.SANCTIONED_COUNTERPARTY.inn
    assert ru_inn.is_valid(spec.DECOY.inn)
    rows = [r for r in valid_customs if r["importer_inn"] == spec.DECOY.inn]
    assert len(rows) == 24
    assert not any(r["commodity_code"][:6] in chpl for r in rows)
    assert not any(r["origin_country"] == "TW" for r in rows)


# ----------------------------------------------------------------------------- planted patterns


def cnc_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [
        r for r in rows if r["origin_country"] == "TW" and r["commodity_code"][:6] in spec.CNC_HS6
    ]


def test_taiwan_cnc_rows_are_exactly_the_planted_ones(customs: list[dict[str, str]]) -> None:
    found = {(r["_month"], tuple(r[c] for c in spec.CUSTOMS_COLUMNS)) for r in cnc_rows(customs)}
    planted = {(s.month, tuple(s.csv_row())) for s in spec.planted_cnc_shipments()}
    assert found == planted
    assert len(cnc_rows(customs)) == len(planted) == 67


def test_cnc_importer_shipments(valid_customs: list[dict[str, str]]) -> None:
    planted = [s for s in spec.planted_cnc_shipments() if s.role == "cnc_importer"]
    rows = [r for r in cnc_rows(valid_customs) if r["importer_inn"] == spec.CNC_IMPORTER.inn]
    assert len(rows) == len(planted) == 61
    total = sum((usd(r) for r in rows), Decimal(0))
    assert total == sum((s.statistical_value_usd for s in planted), Decimal(0))
    assert Decimal(19_000_000) < total < Decimal(21_000_000)
    assert sum(r["dispatch_country"] != "TW" for r in rows) == 10
    for control in spec.CONTROL_DATES:
        assert any(r["declaration_date"] < control for r in rows)
        assert any(r["declaration_date"] > control for r in rows)
    assert not any(r["declaration_date"] in spec.BOUNDARY_DATES for r in rows)
    for row in rows:
        if row["dispatch_country"] != "TW":
            assert row["exporter_country"] == row["dispatch_country"] in ("TR", "CN")


def test_cnc_is_virtually_all_of_the_importers_imports(
    valid_customs: list[dict[str, str]],
) -> None:
    mine = [r for r in valid_customs if r["importer_inn"] == spec.CNC_IMPORTER.inn]
    cnc = sum((usd(r) for r in cnc_rows(mine)), Decimal(0))
    assert cnc / sum((usd(r) for r in mine), Decimal(0)) >= Decimal("0.95")
    assert len(mine) == 64


def test_counterparty_shipments_straddle_the_listing(valid_customs: list[dict[str, str]]) -> None:
    rows = [
        r for r in cnc_rows(valid_customs) if r["importer_inn"] == spec.SANCTIONED_COUNTERPARTY.inn
    ]
    assert len(rows) == 6
    assert sum(r["declaration_date"] < spec.LISTING_DATE for r in rows) == 3
    assert sum(r["declaration_date"] > spec.LISTING_DATE for r in rows) == 3
    assert {r["importer_name"] for r in rows} == {"LLC INVEST STANKO"}


def test_defence_share_of_cnc_importer_sales(bundle: Path) -> None:
    register = {r["inn"] for r in read_csv(bundle / "tax/defence_register.csv")}
    invoices = [
        r
        for r in read_csv(bundle / "tax/sales_invoices.csv")
        if r["seller_inn"] == spec.CNC_IMPORTER.inn
    ]
    assert len(invoices) == len(spec.planted_sales_invoices())
    total = sum((Decimal(r["amount_rub"]) for r in invoices), Decimal(0))
    defence = sum((Decimal(r["amount_rub"]) for r in invoices if r["buyer_inn"] in register), 0)
    assert defence / total > Decimal("0.8")
    assert any(r["buyer_inn"] == spec.SANCTIONED_COUNTERPARTY.inn for r in invoices)
    ids = [r["invoice_id"] for r in read_csv(bundle / "tax/sales_invoices.csv")]
    assert len(ids) == len(set(ids))


def test_revenue_of_cnc_importer_is_its_invoices(bundle: Path) -> None:
    invoices = read_csv(bundle / "tax/sales_invoices.csv")
    statements = read_csv(bundle / "tax/financial_statements.csv")
    expected = spec.cnc_importer_revenue_thousand_rub()
    for year in spec.YEARS:
        total = sum(
            (
                Decimal(r["amount_rub"])
                for r in invoices
                if r["seller_inn"] == spec.CNC_IMPORTER.inn and r["invoice_date"][:4] == str(year)
            ),
            Decimal(0),
        )
        rounded = int((total / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        line = [
            r
            for r in statements
            if r["inn"] == spec.CNC_IMPORTER.inn
            and r["year"] == str(year)
            and r["line_code"] == "2110"
        ]
        assert [int(r["value_thousand_rub"]) for r in line] == [rounded] == [expected[year]]
    assert not any(r["inn"] == spec.SANCTIONED_COUNTERPARTY.inn for r in statements)


def test_taiwan_reports_the_planted_cnc_exports(bundle: Path) -> None:
    expected: Counter[tuple[str, str, str]] = Counter()
    for s in spec.planted_cnc_shipments():
        partner = "RU" if s.dispatch_country == "TW" else s.dispatch_country
        expected[(s.mirror_period, partner, s.hs6)] += int(s.mirror_fob_usd * 100)
    found: Counter[tuple[str, str, str]] = Counter()
    for month in spec.MONTHS:
        for r in read_csv(bundle / f"trade_statistics/exports_{month}.csv"):
            assert r["period"] == month and r["flow"] == "X"
            if r["reporter_country"] == "TW" and r["hs6"] in spec.CNC_HS6:
                found[(r["period"], r["partner_country"], r["hs6"])] += int(
                    Decimal(r["value_usd"]) * 100
                )
    assert found == expected
    assert {key[1] for key in found} == {"RU", "TR", "CN"}


# ----------------------------------------------------------------------------- malformed rows


def defects_of(row: dict[str, str], seen_ids: set[str]) -> list[str]:
    """The quarantine rules a pipeline applies, restated independently."""
    found = []
    if not row["declaration_id"]:
        found.append("missing_id")
    elif not ID_PATTERN.match(row["declaration_id"]):
        found.append("bad_id")
    elif row["declaration_id"] in seen_ids:
        found.append("duplicate_id")
    try:
        day = date.fromisoformat(row["declaration_date"])
        if day.isoformat()[:7] != row["_month"] or len(row["declaration_date"]) != 10:
            found.append("bad_date")
    except ValueError:
        found.append("bad_date")
    try:
        value = Decimal(row["statistical_value_usd"])
        if value < 0:
            found.append("negative_value")
    except InvalidOperation:
        found.append("bad_value")
    for column in ("exporter_country", "origin_country", "dispatch_country"):
        if not re.fullmatch(r"[A-Z]{2}", row[column]) or row[column] == "XX":
            found.append("unknown_country")
    if not re.fullmatch(r"\d{10}", row["commodity_code"]):
        found.append("bad_commodity_code")
    if not row["importer_inn"]:
        found.append("missing_inn")
    return found


def test_exactly_the_documented_rows_are_malformed(customs: list[dict[str, str]]) -> None:
    found = []
    for month in spec.MONTHS:
        seen: set[str] = set()
        for row in (r for r in customs if r["_month"] == month):
            for defect in defects_of(row, seen):
                found.append((row["declaration_id"], month, defect))
            seen.add(row["declaration_id"])
    documented = [(bad.declaration_id, bad.month, bad.defect) for bad in spec.malformed_rows()]
    assert sorted(found) == sorted(documented)
    assert set(Counter(d for _, _, d in documented)) == set(spec.DEFECTS)
    assert 15 <= len(documented) <= 25


def test_every_malformed_row_is_written_once(customs: list[dict[str, str]]) -> None:
    written = Counter((r["_month"], tuple(r[c] for c in spec.CUSTOMS_COLUMNS)) for r in customs)
    for bad in spec.malformed_rows():
        assert written[(bad.month, bad.values)] == 1, bad
    for original in spec.duplicate_originals():
        rows = [r for r in customs if r["declaration_id"] == original.declaration_id]
        assert len(rows) == 2
        assert tuple(rows[0][c] for c in spec.CUSTOMS_COLUMNS) == tuple(original.csv_row())
        assert int(rows[0]["_row"]) < int(rows[1]["_row"])


def test_valid_rows_are_consistent(bundle: Path, valid_customs: list[dict[str, str]]) -> None:
    rates = {
        (r["currency"], r["month"]): Decimal(r["usd_per_unit"])
        for r in read_csv(bundle / "reference/fx_monthly.csv")
    }
    assert {r["source"] for r in read_csv(bundle / "reference/fx_monthly.csv")} == {"synthetic"}
    for row in valid_customs:
        converted = Decimal(row["invoice_value"]) * rates[(row["invoice_currency"], row["_month"])]
        assert converted.quantize(spec.CENT, rounding=ROUND_HALF_UP) == usd(row), row
        assert row["declaration_date"][:7] == row["_month"]
        assert Decimal(row["net_weight_kg"]) > 0


def test_commodity_codes_are_real_hs_subheadings(valid_customs: list[dict[str, str]]) -> None:
    path = shared_file("hs-codes/harmonized-system.csv")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        level6 = {r["hscode"] for r in csv.DictReader(handle) if r["level"] == "6"}
    assert {r["commodity_code"][:6] for r in valid_customs} <= level6


# ----------------------------------------------------------------------------- reference data


def sdn_rows(snapshot: str) -> list[list[str]]:
    path = shared_file(f"ofac-sdn/sdn_{snapshot}.csv")
    with open(path, encoding="latin-1", newline="") as handle:
        return [row for row in csv.reader(handle) if len(row) > 1]


def test_counterparty_is_listed_from_2024_02_23() -> None:
    counterparty = spec.SANCTIONED_COUNTERPARTY
    after = [r for r in sdn_rows("2024-02-23") if r[0] == str(counterparty.ofac_ent_num)]
    assert len(after) == 1
    assert after[0][1] == counterparty.name
    assert f"Tax ID No. {counterparty.inn}" in after[0][-1]
    assert f"Registration Number {counterparty.ogrn}" in after[0][-1]
    before = sdn_rows("2024-02-20")
    assert not any(counterparty.inn in r[-1] for r in before)
    assert not any(r[0] == str(counterparty.ofac_ent_num) for r in before)


_LEGAL = {
    "OOO", "LLC", "AO", "JSC", "LIMITED", "LIABILITY", "COMPANY", "CO", "LTD", "INC", "GMBH",
    "SRL", "TOO", "ОБЩЕСТВО", "С", "ОГРАНИЧЕННОЙ", "ОТВЕТСТВЕННОСТЬЮ", "АКЦИОНЕРНОЕ", "ООО", "АО",
}  # fmt: skip


def normalise(name: str) -> str:
    tokens = re.sub(r"[^A-ZА-ЯЁ0-9]+", " ", name.upper()).split()
    return " ".join(t for t in tokens if t not in _LEGAL)


def test_invented_names_are_not_sanctioned_names(
    bundle: Path, customs: list[dict[str, str]]
) -> None:
    listed = {normalise(r[1]) for r in sdn_rows("2024-02-23")}
    names = {r["importer_name"] for r in customs} | {r["exporter_name"] for r in customs}
    names |= {r["name_ru"] for r in read_csv(bundle / "tax/company_registry.csv")}
    allowed = {
        spec.SANCTIONED_COUNTERPARTY.declared_name,
        spec.SANCTIONED_COUNTERPARTY.name_ru,
        *spec.DECOY.latin_forms,  # the decoy is meant to look like the listed name
    }
    assert sorted(n for n in names - allowed if normalise(n) in listed) == []


def test_readme_states_the_planted_numbers() -> None:
    readme = (REPO_ROOT / "demo" / "README.md").read_text(encoding="utf-8")
    cnc = [s for s in spec.planted_cnc_shipments() if s.role == "cnc_importer"]
    total = sum((s.statistical_value_usd for s in cnc), Decimal(0))
    for text in (f"{total:,.2f}", spec.CNC_IMPORTER.inn, spec.DECOY.inn, "5047120398"):
        assert text in readme, text
    for bad in spec.malformed_rows():
        assert bad.defect in readme
