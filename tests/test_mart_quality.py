"""Great Expectations suites on the marts: a value outside a reference set is caught and named."""

import itertools
import os
import shutil
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import DemoBuild

from assets.marts import quality, suites


def _copy_of_warehouse(demo_build: DemoBuild, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    assert demo_build.succeeded, "the demo build failed; see the Dagster logs above"
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_build.settings.warehouse_path, copy)
    return duckdb.connect(str(copy))


def _build_file(demo_build: DemoBuild, tmp_path: Path) -> Path:
    """A copy of the demo's published warehouse, as a run's build file."""
    database = tmp_path / "build.duckdb"
    shutil.copy(demo_build.settings.warehouse_path, database)
    return database


def _inputs(
    database: Path, marts: tuple[str, ...], reconciliations: tuple[tuple[str, str, str], ...]
) -> suites.SuiteInputs:
    """What the run's process hands the worker: the marts' rows (files beside the database)
    and the reconciliation totals."""
    folder = database.with_name("rows")
    folder.mkdir(exist_ok=True)
    con = duckdb.connect(str(database), read_only=True)
    try:
        return suites.read_inputs(con, folder, marts, reconciliations)
    finally:
        con.close()


def test_codes_outside_the_reference_sets_fail_their_expectations(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    con = _copy_of_warehouse(demo_build, tmp_path)
    # a subheading HS 2022 does not have (horses are 0101.21-0101.90) and a country ISO
    # does not know, one row each
    con.execute(
        "update marts.dual_use_trade_monthly set hs6 = '010100' "
        "where rowid = (select min(rowid) from marts.dual_use_trade_monthly)"
    )
    con.execute(
        "update marts.dual_use_trade_monthly set origin_country = 'QQ' "
        "where rowid = (select max(rowid) from marts.dual_use_trade_monthly)"
    )
    results = suites.run_suites(
        con, tmp_path / "docs", marts=("dual_use_trade_monthly",), reconciliations=()
    )
    failed = {(r["target_column"], r["unexpected"]) for r in results if not r["success"]}
    assert failed == {("hs6 not in hs2022_hs6", 1), ("origin_country not in iso3166_alpha2", 1)}
    # the Data Docs page of the validation shows the offending values themselves
    pages = [p.read_text(encoding="utf-8") for p in (tmp_path / "docs").rglob("*.html")]
    assert any("010100" in page and "QQ" in page for page in pages)


def test_the_demo_marts_meet_every_reference_set(demo_build: DemoBuild) -> None:
    with demo_build.connect() as con:
        checked = con.execute(
            "select target_column, success from audit.mart_quality "
            "where expectation = 'expect_column_values_to_be_null'"
        ).fetchall()
    columns = {column for column, _ in checked}
    assert {"hs6 not in hs2022_hs6", "importer_country not in iso3166_alpha2"} <= columns
    assert all(success for _, success in checked)


@pytest.mark.e2e  # runs of its own
def test_a_run_validates_in_its_worker_process_with_the_same_results(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """The run's Great Expectations worker gives what the suites give in the caller's process."""
    import dagster as dg

    from assets.marts.quality_worker import QualityWorker

    database = _build_file(demo_build, tmp_path)
    marts = ("dual_use_trade_monthly", "importer_profile")
    reconciliations = quality.RECONCILIATIONS[:1]
    seen: dict[str, object] = {}

    def totals() -> list[dict[str, object]]:
        # added up while the worker validates the marts (it has begun: the meanwhile is later)
        assert "meanwhile" not in seen
        con = duckdb.connect(str(database), read_only=True)
        try:
            return suites.reconciliation_totals(con, reconciliations)
        finally:
            con.close()

    @dg.asset(key=["audit", "mart_quality"])
    def step(quality: QualityWorker) -> None:
        seen["started"] = quality.started
        seen["results"] = quality.run_suites(
            _inputs(database, marts, ()),  # the marts' rows only: the totals come after them
            tmp_path / "worker_docs",
            totals=totals,
            meanwhile=lambda: seen.update(meanwhile=True),
        )
        quality.wait_for_docs()  # the worker writes them after returning the results
        seen["docs_written"] = (tmp_path / "worker_docs" / "index.html").is_file()

    @dg.asset(key=["audit", "other"])
    def other(quality: QualityWorker) -> None:
        seen["other_run_started"] = quality.started

    assert dg.materialize([step], resources={"quality": QualityWorker()}).success
    assert dg.materialize([other], resources={"quality": QualityWorker()}).success
    con = duckdb.connect(str(database), read_only=True)
    try:
        here = suites.run_suites(con, tmp_path / "docs", marts, reconciliations)
    finally:
        con.close()
    assert seen["started"] is True
    assert seen["other_run_started"] is False  # a run without the step starts no worker
    assert seen["results"] == here and len(here) > 10
    assert [r["dataset"] for r in here][-1] == "reconciliation"
    assert seen["docs_written"] is True
    assert seen["meanwhile"] is True  # the run's own work while the worker validates


@pytest.mark.e2e  # runs of its own
def test_marts_given_early_give_the_results_of_one_validation_and_only_when_they_agree(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """Marts given to the worker by their steps are used only if the quality step would read
    the same: otherwise (another scope, a mart given twice) every mart is validated afresh.
    Either way the results are those of one validation of every mart, in the marts' order."""
    from datetime import date

    import dagster as dg

    from assets.marts.quality_worker import QualityWorker

    database = _build_file(demo_build, tmp_path)
    marts = ("dual_use_trade_monthly", "importer_profile", "flagged_shipments")
    reconciliations = quality.RECONCILIATIONS[:2]
    con = duckdb.connect(str(database), read_only=True)
    try:
        here = suites.run_suites(con, tmp_path / "docs", marts, reconciliations)
        totals = suites.reconciliation_totals(con, reconciliations)
        hs6 = suites.hs6_codes(con)
    finally:
        con.close()
    seen: dict[str, object] = {}

    given = iter(range(100))

    def one(mart: str, scopes: dict[str, object] | None = None) -> suites.SuiteInputs:
        folder = tmp_path / f"rows-{mart}-{next(given)}"
        folder.mkdir()
        with duckdb.connect(str(database), read_only=True) as con:
            return suites.read_inputs(con, folder, (mart,), (), scopes or {})  # type: ignore[arg-type]

    def rest(now: tuple[str, ...]) -> suites.SuiteInputs:
        return replace(_inputs(database, now, ()), marts=marts)

    @dg.asset(key=["audit", "mart_quality"])
    def step(quality: QualityWorker) -> None:
        # the first two marts given by their steps, the third read by the quality step
        quality.validate_early(one("dual_use_trade_monthly"))
        quality.validate_early(one("importer_profile"))
        early = quality.validated_early({}, marts, hs6)
        seen["early"] = sorted(early)
        seen["agreed"] = quality.run_suites(
            rest(("flagged_shipments",)), tmp_path / "d1", totals=lambda: totals, early=early
        )
        seen["worker_peak"] = quality.worker_peak
        # given in one scope, planned in another: not used, and the validation begins anew
        march = (date(2024, 3, 1), date(2024, 4, 1))
        quality.validate_early(one("dual_use_trade_monthly", {"dual_use_trade_monthly": march}))
        seen["other_scope"] = quality.validated_early({}, marts, hs6)
        seen["afresh"] = quality.run_suites(rest(marts), tmp_path / "d2", totals=lambda: totals)
        # given twice (a retried step): not used either
        quality.validate_early(one("importer_profile"))
        quality.validate_early(one("importer_profile"))
        seen["twice"] = quality.validated_early({}, marts, hs6)
        seen["again"] = quality.run_suites(rest(marts), tmp_path / "d3", totals=lambda: totals)
        quality.wait_for_docs()  # the last; the worker wrote the others before it

    assert dg.materialize([step], resources={"quality": QualityWorker()}).success
    assert seen["early"] == ["dual_use_trade_monthly", "importer_profile"]
    assert seen["other_scope"] == {} and seen["twice"] == {}
    assert len(here) > 10 and [r["dataset"] for r in here][-1] == "reconciliation"
    assert seen["agreed"] == seen["afresh"] == seen["again"] == here
    # the worker's own peak memory, reported for the run: Great Expectations and pandas alone
    # take a process past 200 MB
    assert isinstance(seen["worker_peak"], int) and seen["worker_peak"] > 200e6
    # each validation's Data Docs hold every mart once (those given early included: one
    # validation, not the early ones in another) and the reconciliation
    for docs in ("d1", "d2", "d3"):
        validations = tmp_path / docs / "validations"
        assert sorted(p.name for p in (validations / "marts").iterdir()) == sorted(marts), docs
        assert (validations / "reconciliation").is_dir(), docs
        runs = list((validations / "marts").rglob("*.html"))
        assert len(runs) == len(marts), docs  # validated once each


@pytest.mark.e2e  # runs of its own
def test_rows_handed_over_early_go_with_a_run_that_fails_before_the_quality_step(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    import dagster as dg

    from assets.marts.quality_worker import QualityWorker

    database = _build_file(demo_build, tmp_path)
    run_folder = tmp_path / ".suites-run"
    read_inputs = suites.read_inputs  # the step's `quality` is the worker
    seen: dict[str, object] = {}

    @dg.asset(key=["audit", "mart_quality"])
    def step(quality: QualityWorker) -> None:
        folder = run_folder / "importer_profile-1"
        folder.mkdir(parents=True)
        with duckdb.connect(str(database), read_only=True) as con:
            quality.validate_early(read_inputs(con, folder, ("importer_profile",), ()))
        seen["rows"] = sorted(p.name for p in folder.iterdir())
        raise RuntimeError("a later step fails")

    result = dg.materialize([step], resources={"quality": QualityWorker()}, raise_on_error=False)
    assert not result.success
    assert seen["rows"] == ["importer_profile.parquet"]
    assert not run_folder.exists()


@pytest.mark.e2e  # runs of its own
def test_a_dead_worker_leaves_the_suites_to_the_run_process(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    import os

    import dagster as dg

    from assets.marts.quality_worker import QualityWorker

    database = _build_file(demo_build, tmp_path)
    seen: dict[str, object] = {}

    @dg.asset(key=["audit", "mart_quality"])
    def step(quality: QualityWorker) -> None:
        assert quality._pool is not None
        try:  # the worker dies (as when the kernel kills it)
            quality._pool.submit(os._exit, 1).result()
        except BrokenProcessPool:
            seen["broken"] = True
        seen["results"] = quality.run_suites(
            _inputs(database, ("importer_profile",), ()), tmp_path / "docs"
        )

    assert dg.materialize([step], resources={"quality": QualityWorker()}).success
    assert seen["broken"] is True
    results = seen["results"]
    assert isinstance(results, list) and results and all(r["success"] for r in results)


@pytest.mark.e2e  # runs of its own
def test_a_worker_that_dies_writing_the_data_docs_leaves_them_to_the_run_process(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal

    import dagster as dg

    from assets.marts import worker
    from assets.marts.quality_worker import QualityWorker

    database = _build_file(demo_build, tmp_path)
    docs = tmp_path / "docs"
    seen: dict[str, object] = {}
    validate = worker.validate_all

    def validate_here(*arguments: object) -> object:
        seen["validated_here"] = bool(arguments[0].rows)  # type: ignore[attr-defined]
        return validate(*arguments)  # type: ignore[arg-type]

    @dg.asset(key=["audit", "mart_quality"])
    def step(quality: QualityWorker) -> None:
        quality.run_suites(_inputs(database, ("importer_profile",), ()), docs)
        assert quality._pool is not None
        for pid in list(quality._pool._processes):  # killed while it writes the Data Docs
            os.kill(pid, signal.SIGKILL)
        monkeypatch.setattr(worker, "validate_all", validate_here)
        quality.wait_for_docs(str(database))  # the rows are read again from the file
        seen["docs_written"] = (docs / "index.html").is_file()

    assert dg.materialize([step], resources={"quality": QualityWorker()}).success
    assert seen == {"validated_here": True, "docs_written": True}


def test_each_mart_frame_is_the_frame_duckdb_would_give(demo_build: DemoBuild) -> None:
    """Read through Arrow for speed, the frames the suites check are DuckDB's `.df()` exactly."""
    from assets.marts.catalog import MART_CONTRACTS

    con = duckdb.connect(str(demo_build.settings.warehouse_path), read_only=True)
    try:
        for mart, contract in MART_CONTRACTS.items():
            columns = suites.suite_columns(contract)
            expected = con.sql(suites.mart_query(con, mart, columns=columns)[1]).df()
            assert set(expected.columns) == columns, mart  # every column its suite is about
            frame = suites._frame(con, mart)
            assert list(map(str, frame.dtypes)) == list(map(str, expected.dtypes)), mart
            assert frame.equals(expected), mart
    finally:
        con.close()


def test_a_suite_over_some_months_reads_those_months_only(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """A monthly run's scope: a defect in a month it validates fails; one outside it is not read."""
    from datetime import date

    con = _copy_of_warehouse(demo_build, tmp_path)
    con.execute(
        "update marts.dual_use_trade_monthly set origin_country = 'QQ' "
        "where rowid = (select min(rowid) from marts.dual_use_trade_monthly "
        "where month = date '2024-06-01')"
    )
    june, july = (date(2024, 6, 1), date(2024, 7, 1)), (date(2024, 7, 1), date(2024, 8, 1))
    for scope, failures in ((june, {("origin_country not in iso3166_alpha2", 1)}), (july, set())):
        results = suites.run_suites(
            con,
            tmp_path / "docs",
            marts=("dual_use_trade_monthly",),
            reconciliations=(),
            scopes={"dual_use_trade_monthly": scope},
        )
        failed = {(r["target_column"], r["unexpected"]) for r in results if not r["success"]}
        assert failed == failures
        assert {r["validated_months"] for r in results} == {f"{scope[0]:%Y-%m} to {scope[0]:%Y-%m}"}
    # the whole mart: the defect is found
    results = suites.run_suites(
        con, tmp_path / "docs", marts=("dual_use_trade_monthly",), reconciliations=()
    )
    assert not all(r["success"] for r in results)
    assert {r["validated_months"] for r in results} == {"all"}


def test_a_large_mart_is_validated_in_batches_of_months_with_the_results_of_one(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over `BATCH_ROWS` rows, a mart is read and validated a batch of whole months at a time
    (the worker holds one batch): every row is read once, an undated row too, and the results
    are those of one validation; each batch has its Data Docs page, named by its months."""
    from datetime import date

    import pyarrow.parquet as pq

    mart = "dual_use_trade_monthly"
    con = _copy_of_warehouse(demo_build, tmp_path)
    # defects in the first month, the last month, and a row without a month
    for extreme, change in (("min", "origin_country = 'QQ'"), ("max", "hs6 = '010100'")):
        con.execute(
            f"update marts.{mart} set {change} where rowid = (select min(rowid) from marts.{mart} "  # noqa: S608
            f"where month = (select {extreme}(month) from marts.{mart}))"
        )
    con.execute(f"update marts.{mart} set month = null where rowid = 7")  # noqa: S608
    total = con.execute(f"select count(*) from marts.{mart}").fetchall()[0][0]  # noqa: S608
    june_to_march = (date(2024, 6, 1), date(2025, 4, 1))

    def validated(scope: tuple[date, date] | None, docs: str) -> list[dict[str, Any]]:
        scopes = {mart: scope} if scope else None
        found = suites.run_suites(con, tmp_path / docs, (mart,), (), scopes=scopes)
        return sorted(found, key=lambda r: (r["expectation"], r["target_column"]))

    whole, june_on = validated(None, "one"), validated(june_to_march, "one-scoped")
    monkeypatch.setattr(suites, "BATCH_ROWS", total // 6)
    assert validated(None, "batched") == whole
    assert validated(june_to_march, "batched-scoped") == june_on
    failed = {(r["target_column"], r["unexpected"]) for r in whole if not r["success"]}
    assert failed == {
        ("origin_country not in iso3166_alpha2", 1),
        ("hs6 not in hs2022_hs6", 1),
        ("month", 1),
    }
    assert {r["validated_months"] for r in june_on} == {"2024-06 to 2025-03"}

    folder = tmp_path / "rows"
    folder.mkdir()
    rows = suites.read_inputs(con, folder, (mart,), ()).rows[mart]
    read = [pq.read_table(path).num_rows for path, _ in rows.batches]
    assert sum(read) == total and len(read) >= 6
    months = [held for _, held in rows.batches if held is not None]
    assert len(months) == len(read)
    # whole months, in order, none in two batches; a batch over the bound is one month
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(months))
    per_month = dict(
        con.execute(
            f"select month, count(*) from marts.{mart} where month is not null group by month"  # noqa: S608
        ).fetchall()
    )
    for (first, after), count in zip(months, read, strict=True):
        in_batch = [n for month, n in per_month.items() if first <= month < after]
        assert count - sum(in_batch) in (0, 1)  # the undated row, in the first batch
        assert sum(in_batch) <= total // 6 or len(in_batch) == 1
    pages = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "batched").rglob("*.html"))
    for first, after in months:
        last = date.fromordinal(after.toordinal() - 1)
        assert f"{mart} ({first:%Y-%m} to {last:%Y-%m})" in pages
    # a scope is split too, and its batches stay within it
    scoped = suites.read_inputs(con, folder, (mart,), (), {mart: june_to_march}).rows[mart]
    assert len(scoped.batches) > 1
    for _, held in scoped.batches:
        assert held is not None and june_to_march[0] <= held[0] and held[1] <= june_to_march[1]


def test_a_key_repeated_in_two_batches_fails_its_uniqueness(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`flagged_shipments`' key has no month in it: a key repeated in two months that fall in
    two batches fails the uniqueness expectation as over one frame, though no batch sees both."""
    mart = "flagged_shipments"
    con = _copy_of_warehouse(demo_build, tmp_path)
    first, last = con.execute(
        f"select min(declaration_date), max(declaration_date) from marts.{mart}"  # noqa: S608
    ).fetchall()[0]
    declaration, reason = con.execute(
        f"select declaration_id, reason from marts.{mart} "  # noqa: S608
        "where declaration_date = $first order by rowid limit 1",
        {"first": first},
    ).fetchall()[0]
    con.execute(
        f"update marts.{mart} set declaration_id = $declaration, reason = $reason "  # noqa: S608
        f"where rowid = (select min(rowid) from marts.{mart} where declaration_date = $last)",
        {"declaration": declaration, "reason": reason, "last": last},
    )
    total = con.execute(f"select count(*) from marts.{mart}").fetchall()[0][0]  # noqa: S608

    def unique(docs: str) -> tuple[bool, int]:
        (found,) = [
            (r["success"], r["unexpected"])
            for r in suites.run_suites(con, tmp_path / docs, (mart,), ())
            if r["expectation"] == "expect_compound_columns_to_be_unique"
        ]
        return found

    assert unique("one") == (False, 2)
    monkeypatch.setattr(suites, "BATCH_ROWS", total // 4)
    folder = tmp_path / "rows"
    folder.mkdir()
    batches = suites.read_inputs(con, folder, (mart,), ()).rows[mart].batches
    assert len(batches) >= 4
    assert unique("batched") == (False, 2)


@pytest.mark.e2e
def test_the_rows_a_killed_run_handed_to_the_suites_are_removed_by_the_next(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """A run killed while validating leaves its Parquet rows beside the build file; the next run
    removes them, and its own once validated."""
    from conftest import copy_of_demo

    from orchestration import cli

    settings = copy_of_demo(demo_build, tmp_path)
    left = settings.build_path.parent / f"{quality.SUITE_ROWS_PREFIX}killed"
    left.mkdir(parents=True)
    (left / "flagged_shipments.parquet").write_bytes(b"rows")
    assert cli.build(settings, job_name="load_tax")
    assert not list(settings.build_path.parent.glob(f"{quality.SUITE_ROWS_PREFIX}*"))


def test_reconciliations_that_share_a_query_each_get_their_own_totals(
    demo_build: DemoBuild, tmp_path: Path
) -> None:
    """Totals are computed once per query (two reconciliations add up the same staged value);
    each reconciliation still gets its own pair."""
    shared = "select statistical_value_usd from staging.customs_declarations"
    reconciliations = (
        ("first", "select 1.25 union all select 2.5", shared),
        ("second", "select 7.0", shared),
        ("third", "select 7.0", "select 3.75"),
    )
    with demo_build.connect() as con:
        inputs = suites.read_inputs(con, tmp_path, (), reconciliations)
        staged = suites._total_to_the_cent(con, shared)
    assert staged > 0
    assert inputs.totals == [
        {"reconciliation": "first", "mart_total": 3.75, "staging_total": staged},
        {"reconciliation": "second", "mart_total": 7.0, "staging_total": staged},
        {"reconciliation": "third", "mart_total": 7.0, "staging_total": 3.75},
    ]


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie nobody reaped yet has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_the_worker_ends_when_its_run_is_killed() -> None:
    """A run killed outright cannot shut its Great Expectations worker down; the worker must
    not outlive it (each one held about 430 MB)."""
    import subprocess
    import sys
    import time

    code = (
        "import os, time\n"
        "from assets.marts.worker import start_pool\n"
        "pool = start_pool()\n"
        "print(pool.submit(os.getpid).result(), flush=True)\n"
        "time.sleep(120)\n"
    )
    run = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert run.stdout is not None
        worker = int(run.stdout.readline())
        assert _alive(worker)
    finally:
        run.kill()
        run.wait()
    deadline = time.monotonic() + 15
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker)


def _on_exit_write(path: str) -> None:
    """In the worker: a file written by its interpreter's teardown, if it has one."""
    import atexit

    atexit.register(Path(path).write_text, "torn down")


def _write_later(path: str) -> int:
    """In the worker: write a file after a while (as the Data Docs are written); its pid."""
    import os
    import time

    time.sleep(0.5)
    Path(path).write_text("written")
    return os.getpid()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_stopping_the_worker_lets_its_last_task_finish_then_ends_it(tmp_path: Path) -> None:
    """The run stops its worker without the interpreter's teardown (a second with Great
    Expectations imported), but only after the Data Docs it is still writing."""
    from assets.marts.worker import start_pool, stop_pool

    pool = start_pool()
    pid = pool.submit(os.getpid).result()
    pool.submit(_on_exit_write, str(tmp_path / "teardown")).result()
    docs = pool.submit(_write_later, str(tmp_path / "docs"))
    stop_pool(pool)
    assert docs.result() == pid  # finished, not cancelled or broken
    assert (tmp_path / "docs").read_text() == "written"
    assert not _alive(pid)
    assert not (tmp_path / "teardown").exists()  # ended at once, not by the interpreter
    stop_pool(pool)  # a second stop (a pool already shut) is harmless


def test_the_suites_read_every_column_their_expectations_are_about() -> None:
    """Only the columns a suite is about are read for it (memory at 50M); none may be missing."""
    from assets.marts.catalog import MART_CONTRACTS

    for mart, contract in MART_CONTRACTS.items():
        read = suites.suite_columns(contract)
        about: set[str] = set()
        for expectation in suites._expectations(contract):
            about.update(getattr(expectation, "column_list", None) or [])
            column = getattr(expectation, "column", None)
            if column is not None:  # a reference-set check is about the column it is made from
                about.add(column.split(" not in ")[0])
        assert about and about <= read, mart
        assert read <= {c.name for c in contract.columns}, mart


def test_only_marts_within_the_row_bound_are_given_to_the_worker_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large mart waits for the quality step: given early, the worker's copy of its rows
    would add to the memory of the steps still running."""
    from types import SimpleNamespace

    from assets.marts import quality_worker

    given: list[tuple[str, ...]] = []
    worker = SimpleNamespace(
        started=True, validate_early=lambda inputs: given.append(tuple(inputs.rows))
    )
    monkeypatch.setitem(quality_worker._running, "run-1", worker)
    monkeypatch.setattr(quality, "EARLY_MAX_ROWS", 5)
    context: Any = SimpleNamespace(run=SimpleNamespace(run_id="run-1", parent_run_id=None, tags={}))
    build = str(tmp_path / "build.duckdb")
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    con.execute("create schema marts; create schema staging")
    con.execute("create table staging.hs_nomenclature as select '847130' as hscode, 6 as level")
    for rows in (5, 6):
        con.execute(
            "create or replace table marts.importer_profile as "
            "select range::varchar as importer_inn, 2024 as year from range($rows)",
            {"rows": rows},
        )
        quality.validate_early(context, con, build, "importer_profile", True)
    assert given == [("importer_profile",)]  # the 5 rows, not the 6
    other: Any = SimpleNamespace(run=SimpleNamespace(run_id="run-2", parent_run_id=None, tags={}))
    quality.validate_early(other, con, build, "importer_profile", True)
    assert len(given) == 1  # another run's step: no worker of its own in this process


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_worker_started_before_its_run_is_the_runs_or_is_stopped() -> None:
    """The command line starts the suites' worker while it prepares the run: the run's
    resource takes that one (warming up already), and one no run took is stopped."""
    from assets.marts import worker

    worker.prestart()
    prestarted = worker._prestarted
    assert prestarted is not None
    pool, warm = worker.take_prestarted()
    assert (pool, warm) == prestarted and worker._prestarted is None
    warm.result()  # Great Expectations imported in it, and the suites, without Dagster
    imported = pool.submit(eval, "sorted(__import__('sys').modules)").result()
    assert "great_expectations" in imported and "assets.marts.suites" in imported
    assert "dagster" not in imported
    taken = pool.submit(os.getpid).result()
    worker.stop_pool(pool)
    # none started before: the run starts its own
    own, _ = worker.take_prestarted()
    assert own is not pool
    worker.end_pool(own)  # (its import not waited for)
    # one no run took: ended at once, its import of Great Expectations not waited for
    worker.prestart()
    prestarted = worker._prestarted
    assert prestarted is not None
    pool, _ = prestarted
    left = next(iter(pool._processes))  # (pool's worker, by pid)
    # work queued behind the import that would take half a minute (the import alone can be
    # over before the drop on an idle machine): dropping must not wait for it
    queued = pool.submit(time.sleep, 30)
    worker.drop_prestarted()
    assert worker._prestarted is None
    assert queued.cancelled() or isinstance(queued.exception(timeout=30), BrokenProcessPool)
    assert taken != os.getpid() and not _alive(taken) and not _alive(left)


def test_a_run_that_fails_before_its_quality_step_ends_its_worker_at_once() -> None:
    """Nothing the worker would finish is needed then: not its import, not an early mart."""
    import dagster as dg

    from assets.marts.quality_worker import QualityWorker

    seen: dict[str, Any] = {}

    @dg.asset(key=["audit", "mart_quality"])
    def step(quality: QualityWorker) -> None:
        seen["pool"], seen["warm"] = quality._pool, quality._warm
        seen["pid"] = next(iter(quality._pool._processes))  # type: ignore[union-attr]
        raise RuntimeError("a step before the suites failed")

    result = dg.materialize([step], resources={"quality": QualityWorker()}, raise_on_error=False)
    assert not result.success
    warm = seen["warm"]
    assert warm.cancelled() or isinstance(warm.exception(timeout=30), BrokenProcessPool)
    assert not _alive(seen["pid"])


def test_the_suites_hold_no_mart_once_it_is_validated(
    demo_build: DemoBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Great Expectations keeps every batch it loaded: the suites let go of each one, so the
    worker holds one batch at a time (it held every mart of its run)."""
    import gc
    import weakref

    con = _copy_of_warehouse(demo_build, tmp_path)
    folder = tmp_path / "rows"
    folder.mkdir()
    inputs = suites.read_inputs(con, folder, ("flagged_shipments", "importer_profile"), ())
    frames: list[weakref.ref[Any]] = []
    read = suites._pandas

    def kept(path: str, types: list[tuple[str, str]]) -> Any:
        frame = read(path, types)
        frames.append(weakref.ref(frame))
        return frame

    monkeypatch.setattr(suites, "_pandas", kept)
    session = suites.Session()
    results = session.marts(inputs)
    assert {r["dataset"] for r in results} == {"flagged_shipments", "importer_profile"}
    gc.collect()
    assert len(frames) == 2 and all(frame() is None for frame in frames)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_a_process_reports_its_own_peak_memory_not_its_parents() -> None:
    """`ru_maxrss` carries the forking process's size over an exec; the peak reported is the
    process's own."""
    import subprocess
    import sys

    ballast = bytearray(400_000_000)
    ballast[::4096] = b"\1" * len(ballast[::4096])  # resident
    code = "from assets.marts.worker import peak_rss_bytes; print(peak_rss_bytes())"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    del ballast
    assert 0 < int(out.stdout) < 300_000_000


def test_the_command_line_imports_no_dagster_before_its_worker_starts() -> None:
    """The suites' worker is spawned: it imports the command line's module again (as
    `__mp_main__`) and the suites. Neither may bring Dagster, which the worker does not need
    (1 s and 70 MB)."""
    import subprocess
    import sys

    code = (
        "import sys, orchestration.cli, assets.marts.worker, assets.marts.suites; "
        "print('dagster' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
