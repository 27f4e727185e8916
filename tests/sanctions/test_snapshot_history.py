"""Snapshot history on real OFAC files: guard, deltas and as-of answers.

Tests that need more than the two bundled snapshots read ../shared/reference-data and skip
with the reason when it is absent.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import SHARED

import assets.sanctions.assets
from assets.common.landing import LandingArea
from assets.common.paths import REFERENCE_DIR
from assets.common.raw import sha256_file
from assets.common.warehouse import Warehouse
from assets.sanctions.approvals import approvals_path

BUNDLED = REFERENCE_DIR / "sanctions" / "ofac_sdn"
OFAC_SHARED = SHARED / "ofac-sdn"


class Pipeline:
    """The sanctions assets alone, over a landing folder and a warehouse in a temp dir."""

    def __init__(self, root: Path) -> None:
        self.landing = root / "landing"
        self.folder = self.landing / "sanctions" / "ofac_sdn"
        self.folder.mkdir(parents=True)
        self.warehouse = Warehouse(
            build_path=str(root / "w.build.duckdb"), published_path=str(root / "w.duckdb")
        )

    def land(self, source: Path, name: str | None = None) -> None:
        shutil.copyfile(source, self.folder / (name or source.name))

    def land_bytes(self, name: str, data: bytes) -> None:
        (self.folder / name).write_bytes(data)

    def approve(self, list_id: str, *files: Path) -> None:
        """A reviewer's approval row for each file's snapshot (its main file's sha256)."""
        rows = "".join(
            f"{list_id},{sha256_file(path)},test.reviewer,2024-06-01,long gap between scrapes\n"
            for path in files
        )
        path = approvals_path(self.landing)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("list_id,snapshot_sha256,reviewer,approved_on,note\n" + rows, "utf-8")

    def build(self) -> None:
        result = dg.materialize(
            assets.sanctions.assets.defs,
            resources={"warehouse": self.warehouse, "landing": LandingArea(path=str(self.landing))},
        )
        assert result.success

    def query(self, sql: str, params: object = None) -> list[tuple]:
        con = duckdb.connect(self.warehouse.build_path, read_only=True)
        try:
            return con.execute(sql, params or {}).fetchall()
        finally:
            con.close()

    def snapshots(self) -> list[str]:
        return [
            row[0].isoformat()
            for row in self.query("select snapshot_date from core.sanctions_snapshots order by 1")
        ]


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    yield Pipeline(tmp_path)


def _delta_counts(pipeline: Pipeline, to_snapshot: str) -> dict[str, int]:
    return dict(
        pipeline.query(
            "select change, count(*) from core.sanctions_list_deltas "
            "where to_snapshot = $day::date group by change",
            {"day": to_snapshot},
        )
    )


def test_deltas_between_the_bundled_february_2024_snapshots(pipeline: Pipeline) -> None:
    pipeline.land(BUNDLED / "sdn_2024-02-20.csv")
    pipeline.land(BUNDLED / "sdn_2024-02-23.csv")
    pipeline.build()
    assert _delta_counts(pipeline, "2024-02-23") == {"ADDED": 553, "CHANGED": 8}
    russia = pipeline.query(
        "select count(*) from core.sanctions_list_deltas where change = 'ADDED' "
        "and list_contains(new_programs, 'RUSSIA-EO14024')"
    )
    assert russia == [(552,)]
    assert pipeline.query("select distinct change_source from core.sanctions_list_deltas") == [
        ("publisher",)
    ]
    # as-of answers: the list as known on a date, and listed-on-date versus now
    assert pipeline.query(
        "select count(*) from core.sanctions_list_as_of('ofac_sdn', date '2024-02-22')"
    ) == [(13931,)]
    assert pipeline.query(
        "select core.sanctions_listed_on('ofac_sdn', '47497', date '2024-02-22'), "
        "core.sanctions_listed_on('ofac_sdn', '47497', date '2024-03-01')"
    ) == [(False, True)]


@pytest.mark.e2e  # sanctions pipeline runs of its own
def test_landing_the_same_bytes_again_changes_nothing(pipeline: Pipeline) -> None:
    pipeline.land(BUNDLED / "sdn_2024-02-20.csv")
    pipeline.build()
    before = pipeline.query("select fingerprint, received_at from raw.sanctions_files")
    pipeline.build()
    assert pipeline.query("select fingerprint, received_at from raw.sanctions_files") == before
    assert pipeline.query("select count(*) from audit.sanctions_rejections") == [(0,)]


@pytest.mark.e2e  # sanctions pipeline runs of its own
@pytest.mark.parametrize(
    ("name", "damage", "reason"),
    [
        ("sdn_2024-05-04.csv", lambda data: b"", "empty file"),
        ("sdn_2024-05-04.csv", lambda data: data[: len(data) // 2], "malformed"),
        (
            "sdn_2024-05-04.csv",
            lambda data: b"\r\n".join(data.split(b"\r\n")[:5]) + b"\r\n\x1a",
            "entries, outside",
        ),
        ("sdn_2024-05-04.csv", lambda data: b"ent_num,name\r\n1,X\r\n", "malformed"),
        (
            "sdn_2024-05-04.csv",
            lambda data: b"\r\n".join(data.split(b"\r\n")[:11000]) + b"\r\n\x1a",
            "looks like a truncated file",
        ),
    ],
    ids=["empty", "cut-mid-record", "too-few-entries", "header-row", "drop"],
)
def test_a_bad_snapshot_is_rejected_and_the_previous_stays_in_force(
    pipeline: Pipeline, name: str, damage: object, reason: str
) -> None:
    pipeline.land(BUNDLED / "sdn_2024-02-23.csv")
    pipeline.build()
    good = (BUNDLED / "sdn_2024-02-23.csv").read_bytes()
    pipeline.land_bytes(name, damage(good))  # type: ignore[operator]
    pipeline.build()
    rejections = pipeline.query(
        "select snapshot_date::varchar, reason from audit.sanctions_rejections"
    )
    assert len(rejections) == 1
    assert rejections[0][0] == "2024-05-04"
    assert reason in rejections[0][1]
    assert pipeline.snapshots() == ["2024-02-23"]
    assert pipeline.query(
        "select count(*) from core.sanctions_list_history where valid_to is not null"
    ) == [(0,)]  # nobody was delisted


def _shared(name: str) -> Path:
    path = OFAC_SHARED / name
    if not path.exists():
        pytest.skip(f"../shared/reference-data not present: {name} unavailable")
    return path


SHARED_SNAPSHOTS = {
    "sdn_2021-04-25.csv": 8890,
    "sdn_2022-02-17.csv.gz": 9056,
    "sdn_2022-03-01.csv.gz": 9226,
    "sdn_2023-05-16.csv.gz": 12218,
    "sdn_2023-05-19.csv.gz": 12538,
    "sdn_2024-02-20.csv": 13931,
    "sdn_2024-02-23.csv": 14484,
    "sdn_2024-04-26.csv.gz": 14668,
    "sdn_2024-05-01.csv.gz": 14966,
    "sdn_2024-05-03.csv.gz": 14965,
}


# Scrapes 9 to 14 months apart remove more entries than an ordinary day's bound allows.
LONG_GAPS = {"sdn_2022-02-17.csv.gz": 454, "sdn_2023-05-16.csv.gz": 172, "sdn_2024-02-20.csv": 247}


@pytest.mark.e2e  # sanctions pipeline runs of its own
@pytest.mark.shared
def test_all_nine_real_snapshots_and_the_2021_triple(pipeline: Pipeline) -> None:
    for name in [*SHARED_SNAPSHOTS, "alt_2021-04-25.csv", "add_2021-04-25.csv"]:
        pipeline.land(_shared(name))
    pipeline.approve("ofac_sdn", *(_shared(name) for name in LONG_GAPS))
    pipeline.build()
    assert pipeline.query(
        "select snapshot_date::varchar, entries_removed from audit.snapshot_approvals order by 1"
    ) == sorted((name[4:14], removed) for name, removed in LONG_GAPS.items())
    assert pipeline.query("select count(*) from audit.pending_delistings") == [(0,)]
    counts = dict(
        pipeline.query("select snapshot_date::varchar, entries from core.sanctions_snapshots")
    )
    assert counts == {name[4:14]: rows for name, rows in SHARED_SNAPSHOTS.items()}
    assert pipeline.query("select count(*) from audit.sanctions_rejections") == [(0,)]
    assert _delta_counts(pipeline, "2024-02-23") == {"ADDED": 553, "CHANGED": 8}
    assert _delta_counts(pipeline, "2024-05-03") == {"ADDED": 7, "REMOVED": 8}
    # the 2021 triple brings aliases and addresses from alt.csv and add.csv
    assert pipeline.query(
        "select count(*) from staging.sanctions_aliases "
        "where snapshot_date = date '2021-04-25' and quality = 'strong'"
    ) == [(11742,)]
    assert pipeline.query(
        "select count(*) from staging.sanctions_addresses where snapshot_date = date '2021-04-25'"
    ) == [(13761,)]
    # RUSSIA-EO in 2021 is the same program as RUSSIA-EO14024 later: no false program change
    assert pipeline.query(
        "select list_contains(programs, 'RUSSIA-EO14024') from staging.sanctions_entries "
        "where entry_id = '31412' and snapshot_date = date '2021-04-25'"
    ) == [(True,)]
    # delisted entries get an end to their validity
    delisted = pipeline.query(
        "select count(*) from core.sanctions_list_history where delisted_at = date '2024-05-03'"
    )
    assert delisted == [(8,)]


def _alter(pipeline: Pipeline, statement: str, params: object = None) -> None:
    con = duckdb.connect(pipeline.warehouse.build_path)
    try:
        con.execute(statement, params or {})
    finally:
        con.close()


def _mark_staged(pipeline: Pipeline, day: str) -> None:
    """Mark the staged entries of a snapshot: a run that parses it again loses the mark."""
    _alter(
        pipeline,
        "update staging.sanctions_entries set remarks = 'staged before' "
        "where snapshot_date = $day::date",
        {"day": day},
    )


def _staged(pipeline: Pipeline) -> list[tuple]:
    """Per snapshot: entries still marked, entries, and whether audit.sanctions_staged names
    the fingerprint raw.sanctions_files holds."""
    return pipeline.query(
        "select e.snapshot_date::varchar, count(*) filter (where remarks = 'staged before'), "
        "count(*), any_value(s.fingerprint = r.fingerprint) "
        "from staging.sanctions_entries as e "
        "join audit.sanctions_staged as s using (list_id, snapshot_date) "
        "join (select distinct list_id, snapshot_date, fingerprint from raw.sanctions_files) "
        "as r using (list_id, snapshot_date) group by all order by 1"
    )


@pytest.mark.e2e  # sanctions pipeline runs of its own
def test_a_run_parses_only_the_snapshots_it_has_not_staged(pipeline: Pipeline) -> None:
    pipeline.land(BUNDLED / "sdn_2024-02-20.csv")
    pipeline.build()
    _mark_staged(pipeline, "2024-02-20")
    pipeline.land(BUNDLED / "sdn_2024-02-23.csv")
    pipeline.build()
    (before, marked_before, entries_before, same_before), after = _staged(pipeline)
    assert before == "2024-02-20" and marked_before == entries_before > 0 and same_before
    assert after[0] == "2024-02-23" and after[1] == 0 and after[2] > 0 and after[3]
    pipeline.build()  # nothing new: nothing parsed, nothing lost
    assert _staged(pipeline) == [(before, marked_before, entries_before, True), after]


@pytest.mark.e2e  # sanctions pipeline runs of its own
def test_staged_rows_that_no_longer_add_up_are_parsed_again(pipeline: Pipeline) -> None:
    pipeline.land(BUNDLED / "sdn_2024-02-20.csv")
    pipeline.build()
    [(day, _, entries, _)] = _staged(pipeline)
    aliases = pipeline.query("select count(*) from staging.sanctions_aliases")
    # rows lost (a release that rebuilt staging its own way, a hand edit): parsed again
    _mark_staged(pipeline, day)
    _alter(
        pipeline,
        "delete from staging.sanctions_aliases where entry_id in "
        "(select entry_id from staging.sanctions_aliases limit 3)",
    )
    pipeline.build()
    assert _staged(pipeline) == [(day, 0, entries, True)]
    assert pipeline.query("select count(*) from staging.sanctions_aliases") == aliases
    # a table whose columns are not the model's (an older release's): rebuilt whole
    _mark_staged(pipeline, day)
    _alter(pipeline, "alter table staging.sanctions_entries add column older varchar")
    pipeline.build()
    assert _staged(pipeline) == [(day, 0, entries, True)]
    columns = pipeline.query(
        "select column_name from information_schema.columns "
        "where table_schema = 'staging' and table_name = 'sanctions_entries'"
    )
    assert ("older",) not in columns


@pytest.mark.e2e  # sanctions pipeline runs of its own
def test_a_change_to_a_parsers_code_parses_every_snapshot_again(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assets.sanctions import snapshots

    pipeline.land(BUNDLED / "sdn_2024-02-20.csv")
    pipeline.build()
    _mark_staged(pipeline, "2024-02-20")
    # the same PARSER_VERSION, other code (a fix that forgot to bump it)
    monkeypatch.setattr(snapshots, "parser_digest", lambda spec: "other code")
    pipeline.build()
    [(_, marked, entries, same)] = _staged(pipeline)
    assert marked == 0 and entries > 0 and same
    assert pipeline.query("select distinct parser_digest from audit.sanctions_staged") == [
        ("other code",)
    ]


@pytest.mark.e2e  # sanctions pipeline runs of its own
def test_a_snapshot_delivered_again_with_other_bytes_is_parsed_again(
    pipeline: Pipeline,
) -> None:
    data = (BUNDLED / "sdn_2024-02-20.csv").read_bytes()
    pipeline.land_bytes("sdn_2024-02-20.csv", data)
    pipeline.build()
    _mark_staged(pipeline, "2024-02-20")
    [(_, marked, entries, _)] = _staged(pipeline)
    assert marked == entries
    # the publisher's correction of the same day: one entry fewer
    first = data.split(b"\r\n")[0]
    pipeline.land_bytes("sdn_2024-02-20.csv", data.replace(first + b"\r\n", b"", 1))
    pipeline.build()
    assert _staged(pipeline) == [("2024-02-20", 0, entries - 1, True)]


@pytest.mark.e2e  # sanctions pipeline runs of its own
def test_a_new_parser_version_is_labelled_as_such_not_as_a_publisher_change(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assets.sanctions import ofac_sdn

    pipeline.land(BUNDLED / "sdn_2024-02-20.csv")
    pipeline.land(BUNDLED / "sdn_2024-02-23.csv")
    pipeline.build()
    # A parser release that spells a program differently: the bytes did not change.
    monkeypatch.setattr(ofac_sdn, "PARSER_VERSION", "ofac-sdn-csv/test")
    monkeypatch.setattr(ofac_sdn, "PROGRAM_RENAMES", {"RUSSIA-EO14024": "RUSSIA-EO-14024"})
    pipeline.build()
    changes = pipeline.query(
        "select snapshot_date::varchar, changed_fields, old_parser_version, new_parser_version, "
        "count(*) from audit.sanctions_parser_changes group by all order by 1"
    )
    assert [row[0] for row in changes] == ["2024-02-20", "2024-02-23"]
    assert all(row[1] == ["programs"] for row in changes)
    assert all(row[2:4] == ("ofac-sdn-csv/1", "ofac-sdn-csv/test") for row in changes)
    assert changes[1][4] == 4105  # every RUSSIA-EO14024 entry of 2024-02-23
    # the publisher's deltas are the same as before: the parser change is not one of them
    assert _delta_counts(pipeline, "2024-02-23") == {"ADDED": 553, "CHANGED": 8}


@pytest.mark.e2e  # sanctions pipeline runs of its own
@pytest.mark.shared
def test_real_un_lists_through_the_pipeline(tmp_path: Path) -> None:
    un = SHARED / "un"
    if not un.exists():
        pytest.skip("../shared/reference-data not present: real UN XML unavailable")
    pipeline = Pipeline(tmp_path)
    folder = pipeline.landing / "sanctions" / "un_consolidated"
    folder.mkdir(parents=True)
    shutil.copyfile(un / "consolidated_2018-10-29.xml", folder / "consolidated_2018-10-29.xml")
    shutil.copyfile(un / "un_2022-09-15.xml", folder / "consolidated_2022-09-15.xml")
    pipeline.build()  # four years apart: 186 of 1,093 entries removed, held for review
    assert pipeline.query(
        "select snapshot_date::varchar, count(*) from audit.pending_delistings group by 1"
    ) == [("2022-09-15", 186)]
    pipeline.approve("un_consolidated", un / "un_2022-09-15.xml")
    pipeline.build()
    counts = dict(
        pipeline.query(
            "select snapshot_date::varchar, entries from core.sanctions_snapshots "
            "where list_id = 'un_consolidated'"
        )
    )
    assert counts == {"2018-10-29": 703 + 390, "2022-09-15": 699 + 253}
    deltas = dict(
        pipeline.query(
            "select change, count(*) from core.sanctions_list_deltas "
            "where list_id = 'un_consolidated' and change <> 'CHANGED' group by change"
        )
    )
    assert deltas == {"ADDED": 45, "REMOVED": 186}
    # the UN gives listing dates: validity starts there, not at the first snapshot
    starts = pipeline.query(
        "select count(*) filter (valid_from_is_listing_date), count(*) "
        "from core.sanctions_list_history where list_id = 'un_consolidated'"
    )[0]
    assert starts[0] == starts[1]


@pytest.mark.e2e  # sanctions pipeline runs of its own
@pytest.mark.shared
def test_real_eu_833_transcription_through_the_pipeline(tmp_path: Path) -> None:
    eu = SHARED / "eu" / "32014R0833_2026-07-17.csv"
    if not eu.exists():
        pytest.skip("../shared/reference-data not present: EU transcriptions unavailable")
    pipeline = Pipeline(tmp_path)
    folder = pipeline.landing / "sanctions" / "eu_833_annex"
    folder.mkdir(parents=True)
    shutil.copyfile(eu, folder / "consolidated_2026-07-17.csv")
    pipeline.build()
    assert pipeline.query(
        "select entries from core.sanctions_snapshots where list_id = 'eu_833_annex'"
    ) == [(1746,)]
    valid_inns = pipeline.query(
        "select count(*) from core.sanctioned_identifiers "
        "where list_id = 'eu_833_annex' and scheme = 'RU_INN' and is_valid"
    )[0][0]
    assert valid_inns >= 648  # the (Tax ID/INN) and (INN) labelled ones at least
