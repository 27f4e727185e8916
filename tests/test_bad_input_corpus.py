"""A corpus of faulty deliveries, run through the whole pipeline: nothing lost, nobody let in.

Each case changes the landing area of a copy of the demo build, as a careless supplier, a tired
operator or an attacker would, and states what must follow: the row in quarantine with a reason
naming its file and row, the file refused with its reason and its month left as it was, or the
delivery held so that the published warehouse does not change. Every case also holds to the
common promises: rows received = staged + quarantined for every file, and nothing of a refused
file's content reaches a table, the Dagster event log or the console.

The cases share three builds: one with every fault that must not stop publication, one with the
faults that must (a month emptied or halved), and one after an approval releases the empty month.
"""
# ruff: noqa: E501, E741  (a table of cases, one per entry; `l` is the landing area)

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from conftest import DemoBuild, copy_of_demo

from assets.common.raw import sha256_file
from orchestration import cli
from orchestration.settings import Settings

MARKER = "ZZ-LEAK-MARKER-7c1f"  # in every refused file: it must never be seen again


@dataclass
class Landing:
    """The landing area of the corpus copy, with helpers to damage its files."""

    root: Path
    where: dict[str, tuple[str, int]] = field(default_factory=dict)

    def customs(self, month: str) -> Path:
        return self.root / "customs" / f"declarations_{month}.csv"

    def rows(self, path: Path) -> tuple[list[str], list[dict[str, str]]]:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            return list(reader.fieldnames or []), list(reader)

    def write(self, path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        path.write_text(buffer.getvalue(), encoding="utf-8")

    def set_value(self, case: str, month: str, row: int, **values: str) -> None:
        """Change one declaration of a month (row 1 = first after the header)."""
        path = self.customs(month)
        header, rows = self.rows(path)
        rows[row - 1].update(values)
        self.write(path, header, rows)
        self.where[case] = (f"customs/{path.name}", row)

    def append(self, case: str, relative: str, values: dict[str, str]) -> None:
        """Add a record at the end of a file (the first record's values, then `values`)."""
        path = self.root / relative
        header, rows = self.rows(path)
        rows.append({**rows[0], **values})
        self.write(path, header, rows)
        self.where[case] = (relative, len(rows))


@dataclass
class Outcome:
    """What a build left: the published warehouse before and after, and everything logged."""

    settings: Settings
    before: duckdb.DuckDBPyConnection
    after: duckdb.DuckDBPyConnection
    succeeded: bool
    console: str
    landing: Landing

    def reasons(self, table: str, file: str, row: int) -> list[str]:
        found = self.after.execute(
            f"select reasons from quarantine.{table} "  # noqa: S608
            "where source_file = $file and source_row_number = $row",
            {"file": file, "row": row},
        ).fetchall()
        assert found, f"{file} row {row} is not in quarantine.{table}"
        return list(found[0][0])


def staged_ids(con: duckdb.DuckDBPyConnection, month: str) -> list[str]:
    """The declaration ids staged for a month."""
    return [
        r[0]
        for r in con.execute(
            "select declaration_id from staging.customs_declarations "
            "where partition_month = $m order by all",
            {"m": month},
        ).fetchall()
    ]


def quarantined(table: str, case: str, *patterns: str) -> Callable[[Outcome], None]:
    """The case's row is in quarantine with a reason for each pattern, and not staged."""

    def expect(outcome: Outcome) -> None:
        file, row = outcome.landing.where[case]
        reasons = outcome.reasons(table, file, row)
        for pattern in patterns:
            assert any(pattern in reason for reason in reasons), (pattern, reasons)
        staged = outcome.after.execute(
            f"select count(*) from staging.{table} "  # noqa: S608
            "where source_file = $file and source_row_number = $row",
            {"file": file, "row": row},
        ).fetchall()[0][0]
        assert staged == 0

    return expect


def staged_as_received(case: str, column: str, value: str) -> Callable[[Outcome], None]:
    """The case's row is staged, keeping the value exactly as received (trimmed at the ends)."""

    def expect(outcome: Outcome) -> None:
        file, row = outcome.landing.where[case]
        found = outcome.after.execute(
            f"select {column} from staging.customs_declarations "  # noqa: S608
            "where source_file = $file and source_row_number = $row",
            {"file": file, "row": row},
        ).fetchall()
        assert found == [(value,)]

    return expect


def refused(month: str, pattern: str) -> Callable[[Outcome], None]:
    """The month's file is refused with a reason naming it; the month keeps its staged rows."""

    def expect(outcome: Outcome) -> None:
        file = f"customs/declarations_{month}.csv"
        reasons = [
            r[0]
            for r in outcome.after.execute(
                "select reason from audit.refused_files where dataset = 'customs_declarations' "
                "and file like $f",
                {"f": f"customs/declarations_{month}%"},
            ).fetchall()
        ]
        assert any(pattern in r for r in reasons), (pattern, reasons)
        assert all(r.startswith(file.rsplit(".", 1)[0]) for r in reasons), reasons
        assert staged_ids(outcome.after, month) == staged_ids(outcome.before, month)
        assert staged_ids(outcome.after, month)  # the month was not emptied

    return expect


def stray(path: str, pattern: str) -> Callable[[Outcome], None]:
    """A file no contract accepts is listed with its reason (and read by nobody)."""

    def expect(outcome: Outcome) -> None:
        found = outcome.after.execute(
            "select refused from audit.landing_files where path = $p", {"p": path}
        ).fetchall()
        assert found and found[0][0] is not None and pattern in found[0][0], found

    return expect


def accepted_change(declaration_id: str, column: str, value: object) -> Callable[[Outcome], None]:
    """The redelivered value is what core.shipments now holds."""

    def expect(outcome: Outcome) -> None:
        found = outcome.after.execute(
            f"select {column} from core.shipments where declaration_id = $id",  # noqa: S608
            {"id": declaration_id},
        ).fetchall()
        assert found == [(value,)]

    return expect


@dataclass(frozen=True)
class Case:
    id: str
    fault: Callable[[Landing], object]
    expect: Callable[[Outcome], object]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _header_and(landing: Landing, month: str, extra: str) -> bytes:
    header = landing.customs(month).read_text(encoding="utf-8").splitlines()[0]
    return (header + "\n" + extra).encode()


def _secret(tmp: Path) -> Path:
    target = tmp / "outside" / "passwd"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"root:x:0:0:{MARKER}:/root:/bin/bash\n", encoding="utf-8")
    return target


def _replace_with_link(landing: Landing, month: str) -> None:
    path = landing.customs(month)
    path.unlink()
    path.symlink_to(_secret(landing.root.parent))


def _inject_row(landing: Landing, month: str, line: str) -> None:
    path = landing.customs(month)
    text = path.read_text(encoding="utf-8").splitlines()
    text.insert(3, line)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")


CASES: list[Case] = [
    # -- rows that break a rule: quarantined, the file's other rows staged ---------------------
    Case(
        "date_in_2099",
        lambda l: l.set_value("date_in_2099", "2022-01", 5, declaration_date="2099-01-05"),
        quarantined("customs_declarations", "date_in_2099", "later than the day the file was loaded"),
    ),
    Case(
        "date_in_1900",
        lambda l: l.set_value("date_in_1900", "2022-02", 5, declaration_date="1900-02-05"),
        quarantined("customs_declarations", "date_in_1900", "earlier than 2000-01-01"),
    ),
    Case(
        "date_outside_file_month",
        lambda l: l.set_value("date_outside_file_month", "2022-03", 5, declaration_date="2022-07-14"),
        quarantined("customs_declarations", "date_outside_file_month", "outside the file's month by more than 3 days (got 2022-07-14 in the file of 2022-03)"),
    ),
    Case(
        "hs_code_not_in_nomenclature",
        lambda l: l.set_value("hs_code_not_in_nomenclature", "2022-04", 5, commodity_code="9999999999"),
        quarantined("customs_declarations", "hs_code_not_in_nomenclature", "does not exist in HS 2022 (got 9999999999)"),
    ),
    Case(
        "id_from_another_month",
        lambda l: l.set_value(
            "id_from_another_month", "2022-06", 5,
            declaration_id=l.rows(l.customs("2022-05"))[1][0]["declaration_id"],
        ),
        quarantined("customs_declarations", "id_from_another_month", "declaration_id: already loaded from another file (customs/declarations_2022-05.csv row 1; this row: customs/declarations_2022-06.csv row 5)"),
    ),
    Case(
        "bell_character_in_name",
        lambda l: l.set_value("bell_character_in_name", "2022-07", 5, importer_name="OOO \x07RING"),
        quarantined("customs_declarations", "bell_character_in_name", "importer_name: contains a control character"),
    ),
    Case(
        "bidi_override_in_exporter",
        lambda l: l.set_value("bidi_override_in_exporter", "2022-08", 5, exporter_name="ACME\u202eDTL"),
        quarantined("customs_declarations", "bidi_override_in_exporter", "exporter_name: contains a control character"),
    ),
    Case(
        "escape_sequence_in_description",
        lambda l: l.set_value("escape_sequence_in_description", "2022-09", 5, goods_description="\x1b[2J cleared"),
        quarantined("customs_declarations", "escape_sequence_in_description", "goods_description: contains a control character"),
    ),
    Case(
        "negative_value",
        lambda l: l.set_value("negative_value", "2022-10", 5, statistical_value_usd="-1.00"),
        quarantined("customs_declarations", "negative_value", "statistical_value_usd: must not be negative (got -1.00)"),
    ),
    Case(
        "value_not_a_number",
        lambda l: l.set_value("value_not_a_number", "2022-11", 5, invoice_value="12,5e"),
        quarantined("customs_declarations", "value_not_a_number", "invoice_value: not a number (got 12,5e)"),
    ),
    Case(
        "unknown_currency",
        lambda l: l.set_value("unknown_currency", "2022-12", 5, invoice_currency="USX"),
        quarantined("customs_declarations", "unknown_currency", "invoice_currency: not an ISO currency code (got USX)"),
    ),
    Case(
        "inn_with_letters",
        lambda l: l.set_value("inn_with_letters", "2023-01", 5, importer_inn="77O7083893"),
        quarantined("customs_declarations", "inn_with_letters", "importer_inn: must be 10 or 12 digits (got 77O7083893)"),
    ),
    Case(
        "required_value_missing",
        lambda l: l.set_value("required_value_missing", "2023-02", 5, exporter_country=""),
        quarantined("customs_declarations", "required_value_missing", "exporter_country: is required but empty"),
    ),
    Case(
        "impossible_date",
        lambda l: l.set_value("impossible_date", "2023-03", 5, declaration_date="2023-02-29"),
        quarantined("customs_declarations", "impossible_date", "declaration_date: not a valid YYYY-MM-DD date (got 2023-02-29)"),
    ),
    Case(
        "id_repeated_in_its_file",
        lambda l: l.set_value(
            "id_repeated_in_its_file", "2023-04", 9,
            declaration_id=l.rows(l.customs("2023-04"))[1][2]["declaration_id"],
        ),
        quarantined("customs_declarations", "id_repeated_in_its_file", "declaration_id: duplicate of an earlier row, which is kept (row 3)"),
    ),
    Case(
        "hs_code_with_dots",
        lambda l: l.set_value("hs_code_with_dots", "2023-05", 5, commodity_code="8457.10.000"),
        quarantined("customs_declarations", "hs_code_with_dots", "commodity_code: must be 10 digits (got 8457.10.000)"),
    ),
    Case(
        "country_in_lower_case_name",
        lambda l: l.set_value("country_in_lower_case_name", "2023-06", 5, origin_country="Taiwan"),
        quarantined("customs_declarations", "country_in_lower_case_name", "origin_country: not an ISO country code (got Taiwan)"),
    ),
    # -- values that are odd but data: staged exactly as received ------------------------------
    Case(
        "formula_in_description",
        lambda l: l.set_value("formula_in_description", "2023-07", 5, goods_description='=HYPERLINK("http://x","y")'),
        staged_as_received("formula_in_description", "goods_description", '=HYPERLINK("http://x","y")'),
    ),
    Case(
        "sql_in_name",
        lambda l: l.set_value("sql_in_name", "2023-08", 5, importer_name="X'); drop table staging.customs_declarations; --"),
        staged_as_received("sql_in_name", "importer_name", "X'); DROP TABLE STAGING.CUSTOMS_DECLARATIONS; --"),
    ),
    Case(
        "very_long_description",
        lambda l: l.set_value("very_long_description", "2023-09", 5, goods_description="lathe " * 20000),
        staged_as_received("very_long_description", "goods_description", ("lathe " * 20000).strip()),
    ),
    Case(
        "padded_values",
        lambda l: l.set_value("padded_values", "2023-10", 5, goods_description="  spaced out  "),
        staged_as_received("padded_values", "goods_description", "spaced out"),
    ),
    Case(
        "line_break_inside_quotes",
        lambda l: l.set_value("line_break_inside_quotes", "2023-11", 5, goods_description="two\nlines"),
        staged_as_received("line_break_inside_quotes", "goods_description", "two\nlines"),
    ),
    Case(
        "corrected_redelivery",
        lambda l: l.set_value(
            "corrected_redelivery", "2023-12", 5, statistical_value_usd="123456.78"
        ),
        lambda o: accepted_change(
            o.landing.rows(o.landing.customs("2023-12"))[1][4]["declaration_id"],
            "statistical_value_usd", 123456.78,
        )(o),
    ),
    # -- files that cannot be read as their contract says: refused, the month kept -----------
    Case("symlink_to_outside", lambda l: _replace_with_link(l, "2024-01"), refused("2024-01", "a symbolic link, refused unread")),
    Case(
        "extra_column_in_header",
        lambda l: l.customs("2024-02").write_text(
            l.customs("2024-02").read_text(encoding="utf-8").replace("quantity_unit\n", f"quantity_unit,{MARKER}\n", 1),
            encoding="utf-8",
        ),
        refused("2024-02", "header does not match the contract (missing: none; 1 unexpected column"),
    ),
    Case(
        "missing_column",
        lambda l: l.customs("2024-03").write_text(
            "\n".join(",".join(line.split(",")[:-1]) for line in l.customs("2024-03").read_text(encoding="utf-8").splitlines()) + "\n",
            encoding="utf-8",
        ),
        refused("2024-03", "missing: quantity_unit"),
    ),
    Case("ragged_record", lambda l: _inject_row(l, "2024-04", f"1,2,{MARKER}"), refused("2024-04", "a record does not fit the layout")),
    Case(
        "unclosed_quote",
        lambda l: _inject_row(l, "2024-05", f'10702030/150323/0000001,2024-05-01,"{MARKER}' + ",x" * 14),
        refused("2024-05", "a record does not fit the layout"),
    ),
    Case(
        "bytes_in_no_declared_encoding",
        lambda l: _write(l.customs("2024-06"), _header_and(l, "2024-06", "") + b"\x98\x98" + MARKER.encode() + b"\n"),
        refused("2024-06", "not in a declared encoding"),
    ),
    Case("empty_file", lambda l: _write(l.customs("2024-07"), b""), refused("2024-07", "header does not match")),
    Case(
        "binary_file",
        lambda l: _write(l.customs("2024-08"), b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4 + MARKER.encode()),
        refused("2024-08", "declarations_2024-08.csv"),
    ),
    Case(
        "csv_and_xlsx_for_one_month",
        lambda l: _write(l.customs("2024-09").with_suffix(".xlsx"), b"PK\x03\x04" + MARKER.encode()),
        refused("2024-09", "two files for one delivery"),
    ),
    # -- names no contract accepts: listed with the reason, read by nobody -------------------
    Case(
        "stray_copy_of_a_month",
        lambda l: _write(l.root / "customs" / "declarations_2024-12 copy.csv", MARKER.encode()),
        stray("customs/declarations_2024-12 copy.csv", "name matches no contract"),
    ),
    Case(
        "month_thirteen",
        lambda l: _write(l.root / "customs" / "declarations_2024-13.csv", MARKER.encode()),
        stray("customs/declarations_2024-13.csv", "not a month"),
    ),
    Case(
        "unknown_file_in_tax",
        lambda l: _write(l.root / "tax" / "company_registry_old.csv", MARKER.encode()),
        stray("tax/company_registry_old.csv", "name matches no contract"),
    ),
    Case(
        "linked_folder",
        lambda l: (l.root / "extra").symlink_to(_secret(l.root.parent).parent),
        stray("extra", "a symbolic link, refused unread"),
    ),
    # -- other sources ------------------------------------------------------------------------
    Case(
        "invoice_dated_2099",
        lambda l: l.append("invoice_dated_2099", "tax/sales_invoices.csv", {"invoice_id": "X-2099", "invoice_date": "2099-01-01"}),
        quarantined("sales_invoices", "invoice_dated_2099", "invoice_date: later than the day the file was loaded"),
    ),
    Case(
        "registry_name_with_control_character",
        lambda l: l.append("registry_name_with_control_character", "tax/company_registry.csv", {"inn": "7707083893", "name_ru": "ООО \x08РОГА"}),
        quarantined("company_registry", "registry_name_with_control_character", "name_ru: contains a control character"),
    ),
    Case(
        "decision_on_unknown_list",
        lambda l: l.append("decision_on_unknown_list", "decisions/match_decisions.csv", {"list_id": "ofac_sdnx", "entry_id": "1"}),
        quarantined("match_decisions", "decision_on_unknown_list", "list_id: not a registered sanctions list"),
    ),
    Case(
        "decision_on_unknown_entry",
        lambda l: l.append("decision_on_unknown_entry", "decisions/match_decisions.csv", {"party_key": "7707083893", "entry_id": "99999999"}),
        quarantined("match_decisions", "decision_on_unknown_entry", "not found in staging.sanctions_entries (got ofac_sdn / 99999999)"),
    ),
    Case(
        "decision_with_bad_inn",
        lambda l: l.append("decision_with_bad_inn", "decisions/match_decisions.csv", {"party_key": "7707083894", "entry_id": "25388"}),
        quarantined("match_decisions", "decision_with_bad_inn", "party_key: INN check digits fail"),
    ),
    Case(
        "conflicting_decisions",
        lambda l: l.append("conflicting_decisions", "decisions/match_decisions.csv", {"decision": "false_positive" if l.rows(l.root / "decisions/match_decisions.csv")[1][0]["decision"] == "confirmed" else "confirmed"}),
        lambda o: (
            quarantined("match_decisions", "conflicting_decisions", "conflicting rows for one key")(o),
            o.reasons("match_decisions", "decisions/match_decisions.csv", 1),  # the first one too
        ),
    ),
]  # fmt: skip


HELD_MONTH, HALVED_MONTH = "2022-05", "2023-06"


def _every_file_conserved(con: duckdb.DuckDBPyConnection) -> None:
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'quarantine'"
        ).fetchall()
    ]
    for table in tables:
        uneven = con.execute(
            f"""
            with r as (select source_file, count(*) n from raw.{table} group by all),
            s as (select source_file, count(*) n from staging.{table} group by all),
            q as (select source_file, count(*) n from quarantine.{table} group by all)
            select r.source_file, r.n, coalesce(s.n, 0), coalesce(q.n, 0) from r
            left join s using (source_file) left join q using (source_file)
            where r.n <> coalesce(s.n, 0) + coalesce(q.n, 0)
            """  # noqa: S608
        ).fetchall()
        assert uneven == [], (table, uneven)


def _no_leak(settings: Settings, con: duckdb.DuckDBPyConnection, console: str) -> None:
    assert MARKER not in console
    for schema, table in con.execute(
        "select schema_name, table_name from duckdb_tables()"
    ).fetchall():
        hits = con.execute(
            f'select count(*) from "{schema}"."{table}" as t where t::varchar like $m',  # noqa: S608
            {"m": f"%{MARKER}%"},
        ).fetchall()[0][0]
        assert hits == 0, f"{schema}.{table} holds content of a refused file"
    for path in settings.dagster_home.rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), f"{path} holds refused content"


@pytest.fixture(scope="module")
def corpus(
    demo_build: DemoBuild, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, Landing, str]]:
    """A copy of the demo build (landing, published warehouse) to damage."""
    settings = copy_of_demo(demo_build, tmp_path_factory.mktemp("corpus") / "data")
    yield settings, Landing(settings.landing_dir), sha256_file(settings.warehouse_path)


def _build(settings: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    capsys.readouterr()
    ok = cli.build(settings)
    captured = capsys.readouterr()
    return ok, captured.out + captured.err


def test_the_corpus_is_large_enough_and_every_case_named_once() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.e2e
def test_faults_that_must_not_stop_publication(
    corpus: tuple[Settings, Landing, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, landing, _ = corpus
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    before_path = settings.data_dir / "before.duckdb"
    shutil.copyfile(settings.warehouse_path, before_path)
    for case in CASES:
        case.fault(landing)
    ok, console = _build(settings, capsys)
    assert ok, console
    before = duckdb.connect(str(before_path), read_only=True)
    after = duckdb.connect(str(settings.warehouse_path), read_only=True)
    outcome = Outcome(settings, before, after, ok, console, landing)
    failures = []
    for case in CASES:
        try:
            case.expect(outcome)
        except AssertionError as error:
            failures.append(f"{case.id}: {error}")
    assert failures == []
    _every_file_conserved(after)
    _no_leak(settings, after, console)
    # a refused file is said on the console by its name, never by its content
    assert "customs/declarations_2024-01.csv: a symbolic link, refused unread" in console
    alerted = after.execute(
        "select message from audit.alerts where source = 'ingest customs_declarations' "
        "and subject = 'customs/declarations_2024-01.csv'"
    ).fetchall()
    assert alerted == [
        ("refused: customs/declarations_2024-01.csv: a symbolic link, refused unread",)
    ]


@pytest.mark.e2e
def test_a_month_emptied_or_halved_is_held_until_approved(
    corpus: tuple[Settings, Landing, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, landing, _ = corpus
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    published = sha256_file(settings.warehouse_path)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        kept = staged_ids(con, HELD_MONTH)
    header_only = landing.customs(HELD_MONTH)
    original_halved = landing.customs(HALVED_MONTH).read_bytes()
    header_only.write_text(
        header_only.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8"
    )
    header, rows = landing.rows(landing.customs(HALVED_MONTH))
    landing.write(landing.customs(HALVED_MONTH), header, rows[: len(rows) // 2])

    ok, console = _build(settings, capsys)
    assert not ok
    assert sha256_file(settings.warehouse_path) == published  # nothing published
    assert "no_delivery_held" in console
    assert f"customs/declarations_{HELD_MONTH}.csv: 0 rows where" in console
    assert f"customs/declarations_{HALVED_MONTH}.csv: {len(rows) // 2} rows where" in console

    # The supplier restores the halved month; a reviewer declares the empty month intended.
    landing.customs(HALVED_MONTH).write_bytes(original_halved)
    approvals = landing.root / "approvals" / "delivery_approvals.csv"
    approvals.parent.mkdir(exist_ok=True)
    approvals.write_text(
        "dataset,file,sha256,approved_by,approved_on,note\n"
        f"customs_declarations,customs/declarations_{HELD_MONTH}.csv,"
        f"{sha256_file(header_only)},reviewer-demo,2024-06-10,supplier withdrew the month\n"
        "customs_declarations,customs/declarations_2099-01.csv,not-a-sha,,2024-06-10,bad row\n",
        encoding="utf-8",
    )
    ok, console = _build(settings, capsys)
    assert ok, console
    assert "approval row not used: approvals/delivery_approvals.csv row 2" in console
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert kept and staged_ids(con, HELD_MONTH) == []
        assert staged_ids(con, HALVED_MONTH)
        # the approval that let the rows go is kept beside them (the restored month needed none)
        released = con.execute(
            "select file, approved_by, note, delivered_rows from audit.delivery_approvals"
        ).fetchall()
        assert released == [
            (
                f"customs/declarations_{HELD_MONTH}.csv",
                "reviewer-demo",
                "supplier withdrew the month",
                0,
            )
        ]
        _every_file_conserved(con)
