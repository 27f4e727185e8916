"""Delisting needs a second pair of eyes: held snapshots, approval rows, and the bound on real data.

A snapshot cut cleanly at a line boundary parses; only its removals give it away. These tests land
such a cut (the last 8% of the real 2024-02-23 OFAC file, which drops LLC INVEST STANKO) and check
that it is held, listed, alerted and checked, and that an approval row releases it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from conftest import SHARED, demo_months, settings_for
from test_snapshot_history import BUNDLED, Pipeline

import assets.sanctions.assets
from assets.common.landing import LandingArea
from assets.sanctions import approvals, guard
from assets.sanctions.registry import list_specs, parse_parts
from assets.sanctions.sensors import LIST_VERSION_TAG
from demo import spec

OFAC = list_specs()["ofac_sdn"]
STANKO = str(spec.SANCTIONED_COUNTERPARTY.ofac_ent_num)
HEADER = "list_id,snapshot_sha256,reviewer,approved_on,note\n"


def _cut(data: bytes, share: float = 0.08) -> bytes:
    """The file cut cleanly at a line boundary, the last `share` of its lines missing."""
    lines = data.split(b"\r\n")
    return b"\r\n".join(lines[: int(len(lines) * (1 - share))]) + b"\r\n\x1a"


def _without(data: bytes, ent_num: str) -> bytes:
    """The file with one entry's line taken out, complete otherwise."""
    return b"\r\n".join(
        line for line in data.split(b"\r\n") if not line.startswith(f"{ent_num},".encode())
    )


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _removals(before: bytes, after: bytes) -> tuple[int, list[str]]:
    old, new = parse_parts(OFAC, {"sdn": before}), parse_parts(OFAC, {"sdn": after})
    removed = guard.removed_entries(old, new)
    return removed.height, guard.review_reasons(OFAC, removed.height, old.entries.height, 0)


# Consecutive real snapshots one to three days apart, and the two-month gap of 2024.
ORDINARY = [
    ("sdn_2022-02-17.csv.gz", "sdn_2022-03-01.csv.gz"),
    ("sdn_2023-05-16.csv.gz", "sdn_2023-05-19.csv.gz"),
    ("sdn_2024-02-20.csv", "sdn_2024-02-23.csv"),
    ("sdn_2024-02-23.csv", "sdn_2024-04-26.csv.gz"),
    ("sdn_2024-04-26.csv.gz", "sdn_2024-05-01.csv.gz"),
    ("sdn_2024-05-01.csv.gz", "sdn_2024-05-03.csv.gz"),
]


@pytest.mark.shared
@pytest.mark.parametrize(("before", "after"), ORDINARY, ids=[a[4:14] for _, a in ORDINARY])
def test_ordinary_real_ofac_days_stay_inside_the_bound(before: str, after: str) -> None:
    folder = SHARED / "ofac-sdn"
    if not (folder / before).exists() or not (folder / after).exists():
        pytest.skip("../shared/reference-data not present")
    removed, reasons = _removals(_read(folder / before), _read(folder / after))
    assert reasons == [], (removed, reasons)
    if after == "sdn_2024-05-03.csv.gz":
        assert removed == 8  # the documented delistings of 3 May 2024


def test_a_cut_at_a_line_boundary_exceeds_both_bounds() -> None:
    full = (BUNDLED / "sdn_2024-02-23.csv").read_bytes()
    removed, reasons = _removals(full, _cut(full))
    assert removed > OFAC.max_removals
    assert len(reasons) == 2  # the count and the share
    # a smaller cut still over the count is held for the count alone
    small, small_reasons = _removals(full, _cut(full, share=0.012))
    assert OFAC.max_removals < small < OFAC.max_removal_share * 14484
    assert len(small_reasons) == 1 and "more than the bound of 150" in small_reasons[0]


def _approvals(root: Path, body: str, header: str = HEADER) -> approvals.ApprovalRows:
    path = approvals.approvals_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + body, encoding="utf-8")
    return approvals.read_approvals(root, date(2024, 6, 1))


def test_approval_rows_are_checked_and_bad_ones_reported(tmp_path: Path) -> None:
    sha = "ab" * 32
    rows = _approvals(
        tmp_path,
        f"ofac_sdn,{sha.upper()},a.reviewer,2024-05-05,OFAC recent actions of 4 May\n"
        f"ofac_sdn,{sha[:-1]},a.reviewer,2024-05-05,short sha\n"
        f"no_such_list,{sha},a.reviewer,2024-05-05,unknown list\n"
        f"un_consolidated,{sha},,2024-05-05,no reviewer\n"
        f"un_consolidated,{sha},a.reviewer,2024-13-01,bad date\n"
        f"uk_consolidated,{sha},a.reviewer,2024-07-01,after today\n"
        f"eu_fsf,{sha},a.reviewer,2024-05-05\n"
        f"ofac_sdn,{sha},b.reviewer,2024-05-06,repeats the first row's key\n",
    )
    assert list(rows.valid) == [("ofac_sdn", sha)]  # sha256 compared in lower case
    assert rows.valid[("ofac_sdn", sha)].reviewer == "a.reviewer"
    by_row = {int(text.split(" row ")[1].split(":")[0]): text for text in rows.refused}
    assert sorted(by_row) == [2, 3, 4, 5, 6, 7, 8]
    assert "snapshot_sha256" in by_row[2]
    assert "not a registered list" in by_row[3]
    assert "reviewer: is required" in by_row[4]
    assert "approved_on: not a valid" in by_row[5]
    assert "after today" in by_row[6]
    assert "fields" in by_row[7]
    assert "duplicate of an earlier row, which is kept (row" in by_row[8]


def test_unreadable_approval_files_are_refused_whole(tmp_path: Path) -> None:
    assert approvals.read_approvals(tmp_path, date(2024, 6, 1)).refused == []  # no file: fine
    missing = _approvals(tmp_path, "ofac_sdn,x,y,2024-01-01\n", header="list_id,x,y,z\n")
    assert "missing column(s) snapshot_sha256" in missing.refused[0]
    path = approvals.approvals_path(tmp_path)
    path.write_bytes(HEADER.encode() + b"ofac_sdn,\xff\xfe,r,2024-01-01,n\n")
    latin = approvals.read_approvals(tmp_path, date(2024, 6, 1))
    assert latin.valid == {} and "not a UTF-8 CSV" in latin.refused[0]
    secret = tmp_path / "elsewhere.csv"
    secret.write_text(HEADER + f"ofac_sdn,{'a' * 64},r,2024-01-01,n\n", encoding="utf-8")
    path.unlink()
    os.symlink(secret, path)
    linked = approvals.read_approvals(tmp_path, date(2024, 6, 1))
    assert linked.valid == {} and "symbolic link, refused unread" in linked.refused[0]


class Reviewed(Pipeline):
    """The sanctions assets with the run's check results and list-version tag kept."""

    checks: dict[str, bool]
    tag: str | None

    def build(self) -> None:
        with dg.instance_for_test() as instance:
            result = dg.materialize(
                assets.sanctions.assets.defs,
                instance=instance,
                resources={
                    "warehouse": self.warehouse,
                    "landing": LandingArea(path=str(self.landing)),
                },
            )
            assert result.success
            self.checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
            run = instance.get_run_by_id(result.run_id)
            assert run is not None
            self.tag = run.tags.get(LIST_VERSION_TAG)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.e2e
def test_a_cut_snapshot_is_held_until_an_approval_row_releases_it(tmp_path: Path) -> None:
    pipeline = Reviewed(tmp_path)
    pipeline.land(BUNDLED / "sdn_2024-02-23.csv")
    pipeline.build()
    pipeline.land_bytes("sdn_2024-05-04.csv", _cut((BUNDLED / "sdn_2024-02-23.csv").read_bytes()))
    pipeline.build()

    assert pipeline.snapshots() == ["2024-02-23"]  # not in raw, so nothing built from it
    assert pipeline.tag == "ofac_sdn@2024-02-23"
    assert pipeline.checks["no_pending_snapshots"] is False
    pending = pipeline.query(
        "select snapshot_date::varchar, source_sha256, count(*), "
        "count(*) filter (entry_id = $stanko) from audit.pending_delistings group by all",
        {"stanko": STANKO},
    )
    sha = _sha256(pipeline.folder / "sdn_2024-05-04.csv")
    assert pending == [("2024-05-04", sha, pending[0][2], 1)]
    assert pending[0][2] > OFAC.max_removals
    alerts = pipeline.query("select severity, subject, message from audit.alerts")
    assert [(a[0], a[1]) for a in alerts] == [("ERROR", "ofac_sdn@2024-05-04")]
    assert sha in alerts[0][2]
    assert pipeline.query(
        "select count(*) from core.sanctions_list_history where valid_to is not null"
    ) == [(0,)]

    pipeline.build()  # judged again, still held, alerted once
    assert pipeline.query("select count(*) from audit.alerts") == [(1,)]
    assert pipeline.checks["no_pending_snapshots"] is False

    pipeline.approve("ofac_sdn", pipeline.folder / "sdn_2024-05-04.csv")
    pipeline.build()
    assert pipeline.snapshots() == ["2024-02-23", "2024-05-04"]
    assert pipeline.tag == "ofac_sdn@2024-05-04"
    assert pipeline.checks["no_pending_snapshots"] is True
    assert pipeline.query("select count(*) from audit.pending_delistings") == [(0,)]
    assert pipeline.query(
        "select reviewer, snapshot_date::varchar, entries_removed from audit.snapshot_approvals"
    ) == [("test.reviewer", "2024-05-04", pending[0][2])]
    assert pipeline.query(
        "select core.sanctions_listed_on('ofac_sdn', $e, date '2024-05-05')", {"e": STANKO}
    ) == [(False,)]


@pytest.mark.e2e
def test_removing_one_linked_entry_is_held_and_a_bad_approval_is_not_used(
    tmp_path: Path,
) -> None:
    pipeline = Reviewed(tmp_path)
    pipeline.land(BUNDLED / "sdn_2024-02-23.csv")
    pipeline.build()
    # What the last full build would hold: the company, and the analyst's confirmed match.
    con = duckdb.connect(pipeline.warehouse.build_path)
    con.execute(
        "create table core.companies as select $inn as inn, null::varchar as ogrn, "
        "$name as customs_name, null::varchar as name_ru",
        {"inn": spec.SANCTIONED_COUNTERPARTY.inn, "name": spec.SANCTIONED_COUNTERPARTY.name},
    )
    con.execute(
        "create table staging.match_decisions as select $inn as party_key, 'ofac_sdn' as list_id, "
        "$entry as entry_id, 'confirmed' as decision, 'analyst-demo' as reviewer",
        {"inn": spec.SANCTIONED_COUNTERPARTY.inn, "entry": STANKO},
    )
    con.close()
    one_less = _without((BUNDLED / "sdn_2024-02-23.csv").read_bytes(), STANKO)
    pipeline.land_bytes("sdn_2024-02-24.csv", one_less)
    pipeline.approve("ofac_sdn", BUNDLED / "sdn_2024-02-20.csv")  # names no held snapshot
    with approvals.approvals_path(pipeline.landing).open("a", encoding="utf-8") as rows:
        rows.write("ofac_sdn,not-a-sha,x,2024-05-06,n\n")
    pipeline.build()

    assert pipeline.snapshots() == ["2024-02-23"]
    held = pipeline.query("select entry_id, linked_to, reason from audit.pending_delistings")
    assert len(held) == 1 and held[0][0] == STANKO
    assert spec.SANCTIONED_COUNTERPARTY.inn in held[0][1]
    assert "confirmed by analyst-demo" in held[0][1]
    assert "linked" in held[0][2] and "bound" not in held[0][2]
    assert pipeline.checks == {
        "no_pending_snapshots": False,
        "no_rejected_snapshots": True,
        "approval_rows_valid": False,
        "matches_contract": True,  # the core sanctions tables against their contracts
    }
    assert pipeline.query(
        "select count(*) from audit.alerts where severity = 'WARN' and message like '%row 2%'"
    ) == [(1,)]


@pytest.mark.e2e
def test_an_entry_without_links_within_the_bound_comes_into_force(tmp_path: Path) -> None:
    pipeline = Reviewed(tmp_path)
    pipeline.land(BUNDLED / "sdn_2024-02-23.csv")
    pipeline.build()
    pipeline.land_bytes(
        "sdn_2024-02-24.csv", _without((BUNDLED / "sdn_2024-02-23.csv").read_bytes(), STANKO)
    )
    pipeline.build()  # no company or match tables yet: nothing is linked, one removal is ordinary
    assert pipeline.snapshots() == ["2024-02-23", "2024-02-24"]
    assert pipeline.checks["no_pending_snapshots"] is True
    assert pipeline.query("select count(*) from audit.alerts") == [(0,)]


def _stanko(warehouse: Path) -> tuple[bool, str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        listed = con.execute(
            "select listed_now from core.companies where inn = $inn",
            {"inn": spec.SANCTIONED_COUNTERPARTY.inn},
        ).fetchall()[0][0]
        (versions,) = con.execute(
            "select distinct sanctions_list_versions from marts.dual_use_trade_monthly"
        ).fetchall()
        matched = con.execute(
            "select count(*) from marts.screening_matches where list_version like '%2024-05-04'"
        ).fetchall()[0][0]
    finally:
        con.close()
    return bool(listed), versions[0], matched


@pytest.mark.slow
def test_the_published_marts_keep_the_list_in_force_until_approval(tmp_path: Path) -> None:
    from orchestration import cli
    from orchestration.definitions import build_definitions

    settings = settings_for(tmp_path)
    cli.seed_landing(settings)
    with dg.instance_for_test() as instance:
        definitions = build_definitions(settings)
        job = definitions.resolve_job_def("build_everything")
        first = job.execute_in_process(
            instance=instance,
            tags=demo_months(instance),
        )
        assert first.success
        assert _stanko(settings.warehouse_path) == (True, "ofac_sdn@2024-02-23", 0)
        folder = settings.landing_dir / "sanctions" / "ofac_sdn"
        cut = folder / "sdn_2024-05-04.csv"
        cut.write_bytes(_cut((folder / "sdn_2024-02-23.csv").read_bytes()))
        rebuild = definitions.resolve_job_def("rebuild_after_list_change")

        held = rebuild.execute_in_process(instance=instance, tags=demo_months(instance))
        assert held.success  # published, with the previous list in force
        failed = {e.check_name for e in held.get_asset_check_evaluations() if not e.passed}
        assert "no_pending_snapshots" in failed
        assert _stanko(settings.warehouse_path) == (True, "ofac_sdn@2024-02-23", 0)
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        linked = con.execute(
            "select linked_to from audit.pending_delistings where entry_id = $e", {"e": STANKO}
        ).fetchall()
        alerts = con.execute("select count(*) from audit.alerts where severity = 'ERROR'")
        assert alerts.fetchall() == [(1,)]
        con.close()
        assert linked and "company " + spec.SANCTIONED_COUNTERPARTY.inn in linked[0][0]
        assert "shipments to importer" in linked[0][0]
        run = instance.get_run_by_id(held.run_id)
        assert run is not None and run.tags[LIST_VERSION_TAG] == "ofac_sdn@2024-02-23"

        path = approvals.approvals_path(settings.landing_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            HEADER + f"ofac_sdn,{_sha256(cut)},second.pair,{date.today()},test release\n",
            encoding="utf-8",
        )
        released = rebuild.execute_in_process(instance=instance, tags=demo_months(instance))
        assert released.success
        listed, versions, _ = _stanko(settings.warehouse_path)
        assert (listed, versions) == (False, "ofac_sdn@2024-05-04")
        assert not [
            e
            for e in released.get_asset_check_evaluations()
            if not e.passed and (e.check_name == "no_pending_snapshots")
        ]
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_frames_for_links_have_the_identifier_schema() -> None:
    """linked_entries reads the removed entries' identifiers as the parser gives them."""
    parsed = parse_parts(OFAC, {"sdn": (BUNDLED / "sdn_2024-02-23.csv").read_bytes()})
    mine = parsed.identifiers.filter(pl.col("entry_id") == STANKO)
    assert {"RU_INN", "RU_OGRN"} <= set(mine.get_column("scheme").to_list())
    assert mine.filter(pl.col("scheme") == "RU_INN").get_column("value").to_list() == [
        spec.SANCTIONED_COUNTERPARTY.inn
    ]
