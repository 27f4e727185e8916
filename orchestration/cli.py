"""Command line: the `chokepoint` console script (also `python -m orchestration.cli`).

`demo` seeds the landing area with the demo data and builds; the operator's commands (`status`,
`land`, `build`, `rollback`, `query`, `export`, `report`, `screen`) live in
`orchestration/commands/`, one module each. `chokepoint COMMAND --help` describes each.

Exit codes: 0 done; 1 an operational failure (a failed build, a missing warehouse, a busy lock,
a full disk); 2 bad usage or input (an unknown option, a refused file, SQL that does not run).

Errors an operator can fix (a data dir that cannot be created or written, a full disk, Dagster's
SQLite storage refusing a write, no input files) end with one line `chokepoint: error: ...` on
stderr and exit code 1, without a traceback; a failed build names each failed step with the first
line of its error and says whether the published warehouse changed. `demo` first checks that
every folder it writes can be created and written. Anything else is a bug and keeps its
traceback. `CHOKEPOINT_DEBUG=1` shows tracebacks for every error, Dagster's included.

`demo` and `build` print one line per layer and keep Dagster's log in `<data dir>/logs/`
(`orchestration/console.py`); `demo` ends with where everything is and the headline figures.
`--verbose` (or `CHOKEPOINT_VERBOSE=1`) shows Dagster's log on the console instead.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import errno
import logging
import os
import shutil
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from assets.common.paths import DEMO_BUNDLE_DIR, REFERENCE_DIR, SHARED_TRADE_DIR
from orchestration.settings import REPO_ROOT, Settings

# The first line marks the file as ours: a copy written by an older version is replaced.
_WRITTEN_BY = "# Written by `chokepoint"
_DAGSTER_YAML = """\
# Written by `chokepoint` (orchestration/cli.py); replaced when the tool's version changes.
# Local SQLite storage under this folder, no telemetry. Edit a copy without the first line to
# keep your own settings (the tool then leaves the file alone).
telemetry:
  enabled: false
concurrency:
  runs:
    # One writer: every run of this project writes the warehouse (and holds its run lock), so
    # the queue launches one at a time and the others wait as QUEUED instead of blocking on the
    # lock; sensors skip while one is queued or running. The jobs also carry the tag below, so
    # that a read-only job added later could run beside them.
    max_concurrent_runs: 1
    tag_concurrency_limits:
      - key: chokepoint/writes
        value: warehouse
        limit: 1
run_monitoring:
  # The default run launcher cannot see a run process die; a run that never starts, or runs
  # longer than any build should, is marked failed so the queue moves on (and it is retried).
  enabled: true
  start_timeout_seconds: 300
  max_runtime_seconds: 21600
run_retries:
  # A run that failed (a crashed worker, a transient error) is retried once, from the start.
  enabled: true
  max_retries: 1
  # a crashed or killed run is retried; a step that failed on its data fails the same way again
  retry_on_asset_or_op_failure: false
"""


def prepare_dagster_home(settings: Settings) -> None:
    """Point Dagster at its folder inside the data dir: telemetry off, one run at a time.

    A `dagster.yaml` this tool wrote (first line `# Written by `chokepoint...`) is brought up to
    date; one without that line is the operator's own and is left as it is.
    """
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    try:
        current: str | None = config.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    if current is None or (current.startswith(_WRITTEN_BY) and current != _DAGSTER_YAML):
        partial = config.with_name(f".dagster.yaml.{os.getpid()}")
        partial.write_text(_DAGSTER_YAML, encoding="utf-8")
        os.replace(partial, config)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)


def seed_landing(settings: Settings) -> list[str]:
    """Copy the bundled demo inputs into the landing area; files already there are kept."""
    sources = [
        (DEMO_BUNDLE_DIR / folder, settings.landing_dir / folder)
        for folder in ("customs", "trade_statistics", "tax", "reference")
    ]
    sources.append((REFERENCE_DIR / "sanctions", settings.landing_dir / "sanctions"))
    sources.append((DEMO_BUNDLE_DIR.parent / "decisions", settings.landing_dir / "decisions"))
    # Real published statistics: the bundled ones (Eurostat, CC BY 4.0), and the extracts whose
    # terms do not allow bundling (UN Comtrade, Taiwan customs) from ../shared when present.
    from assets.trade_statistics.published import LANDING as PUBLISHED_LANDING

    published = settings.landing_dir / PUBLISHED_LANDING
    sources.append((REFERENCE_DIR / "trade_statistics", published))
    sources += [
        (SHARED_TRADE_DIR / folder, published / format_name)
        for folder, format_name in (("comtrade", "comtrade"), ("taiwan-customs", "taiwan_customs"))
        if (SHARED_TRADE_DIR / folder).is_dir()
    ]
    copied = []
    for source_dir, target_dir in sources:
        for source in sorted(source_dir.rglob("*")):
            if not source.is_file() or source.suffix == ".json":
                continue
            target = target_dir / source.relative_to(source_dir)
            if target.exists():  # a delivery already in the landing area is never replaced
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            copied.append(str(target.relative_to(settings.landing_dir)))
    return copied


def landed_months(settings: Settings) -> tuple[str, str]:
    """First and last month with an accepted customs file in the landing area (strays ignored)."""
    from assets.common.landing import months_delivered

    months = months_delivered(settings.landing_dir, "customs_declarations")
    if not months:
        raise SystemExit(f"no customs files in {settings.landing_dir / 'customs'}")
    return months[0], months[-1]


class CommandError(Exception):
    """A failure the operator can fix; its message is the one line shown."""


def debugging() -> bool:
    """Whether CHOKEPOINT_DEBUG asks for tracebacks."""
    return os.environ.get("CHOKEPOINT_DEBUG", "") not in ("", "0")


def operational_error(error: BaseException) -> BaseException | None:
    """The expected operational error in `error`'s chain (SQLAlchemy's `.orig` included), if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, CommandError | OSError | sqlite3.OperationalError):
            return current
        if type(current).__module__.endswith("duckdb") and type(current).__name__ == "IOException":
            return current
        orig = getattr(current, "orig", None)
        nested = orig if isinstance(orig, BaseException) else None
        current = nested or current.__cause__ or current.__context__
    return None


def describe(error: BaseException) -> str:
    """One line for an operational error: what failed, on which path, what to do."""
    if isinstance(error, OSError):
        where = f": {error.filename}" if error.filename else ""
        text = f"{error.strerror or error}{where}"
        if error.errno == errno.ENOSPC:
            return text + " (the disk is full: free space and run again)"
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return text + " (the data dir must be writable: see CHOKEPOINT_DATA_DIR)"
        return text
    if isinstance(error, sqlite3.OperationalError):
        home = os.environ.get("DAGSTER_HOME", "DAGSTER_HOME")
        return (
            f"Dagster's storage in {home} refused a write ({error}); "
            "check that the folder is writable and the disk has space"
        )
    return " ".join(str(error).split()) or type(error).__name__


def writable_folders(settings: Settings) -> dict[Path, str]:
    """Every folder `demo` writes, with the variable that sets it."""
    return {
        settings.data_dir: "CHOKEPOINT_DATA_DIR",
        settings.dagster_home: "DAGSTER_HOME",
        settings.landing_dir: "CHOKEPOINT_LANDING_DIR",
        settings.warehouse_path.parent: "CHOKEPOINT_WAREHOUSE",
        settings.reports_dir: "CHOKEPOINT_REPORTS_DIR",
    }


def check_writable(folders: dict[Path, str]) -> None:
    """Create each folder and write (then remove) a probe file in it, or raise CommandError."""
    for folder, variable in folders.items():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError as error:
            message = f"{folder} exists and is not a folder (set by {variable})"
            raise CommandError(message) from error
        except OSError as error:
            raise CommandError(
                f"cannot create {folder} (set by {variable}): {error.strerror or error}"
            ) from error
        probe = folder / f".chokepoint-write-probe-{os.getpid()}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, b"probe")
            finally:
                os.close(fd)
            probe.unlink()
        except OSError as error:
            with contextlib.suppress(OSError):
                probe.unlink()
            raise CommandError(
                f"cannot write in {folder} (set by {variable}): {error.strerror or error}"
            ) from error


def file_state(path: Path) -> tuple[int, int, int] | None:
    """What identifies a file's version: inode, size and modification time; None when absent."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def warehouse_outcome(path: Path, before: tuple[int, int, int] | None) -> str:
    """Whether the published warehouse changed since `before` was taken."""
    after = file_state(path)
    if after == before:
        return f"the published warehouse {path} is unchanged" + ("" if after else " (none yet)")
    return f"the published warehouse {path} was replaced by this run"


def root_error(error: Any) -> Any:
    """The innermost cause of a Dagster error record: the user code's own error.

    A step that used up its retries (the publication's retry policy) fails with
    `RetryRequestedFromPolicy` ("Exceeded max_retries of 2") caused by that error.
    """
    while getattr(error, "cause", None) is not None and (error.cls_name or "").startswith(
        ("Dagster", "RetryRequested")
    ):
        error = error.cause
    return error


def run_failures(result: Any) -> list[str]:
    """One line per failed step (or for the run when no step failed): step and first error line."""
    lines = []
    for event in result.get_step_failure_events():
        error = root_error(event.step_failure_data.error)
        message = error.message.strip().splitlines()[0] if error and error.message else "failed"
        lines.append(f"step {event.step_key} failed: {message}")
    for event in result.all_events:  # e.g. the warehouse lock: another run holds it
        if event.event_type_value == "RESOURCE_INIT_FAILURE":
            error = root_error(event.event_specific_data.error)
            if error and error.message:
                first = error.message.strip().splitlines()[0]
                named, _, said = first.partition(": ")
                if said and named.endswith(error.cls_name or "\0"):  # "module.Class: message"
                    first = said
                lines.append(f"could not start: {first}")
    if not lines and not result.success:
        run_error = getattr(result.dagster_run, "failure_reason", None) or "see the Dagster logs"
        lines.append(f"the run failed: {run_error}")
    return lines


def console_logger_without_tracebacks() -> Any:
    """Dagster's console logger, with failed steps' tracebacks cut (build prints their errors)."""
    import dagster as dg
    from dagster._utils.log import create_console_logger

    def first_paragraph(record: Any) -> bool:
        meta = getattr(record, "dagster_meta", None)
        event = meta.get("dagster_event") if isinstance(meta, dict) else None
        if getattr(getattr(event, "event_specific_data", None), "error", None) is not None:
            record.msg = str(record.msg).split("\n\n", 1)[0]
        return True

    @dg.logger(config_schema={"log_level": dg.Field(str, default_value="INFO")})
    def console(init_context: Any) -> Any:
        logger = create_console_logger("dagster", init_context.logger_config["log_level"])
        logger.addFilter(first_paragraph)
        return logger

    return console


def build(
    settings: Settings, months: tuple[str, str] | None = None, job_name: str = "build_everything"
) -> bool:
    """Run a job (every asset by default) over the landed months (or `months`, first and last).

    Quiet unless `verbose()` or `debugging()`: one line per layer, Dagster's log in a file
    (`orchestration/console.py`). True when the run succeeded.
    """
    from orchestration import console

    first, last = months or landed_months(settings)
    before = file_state(settings.warehouse_path)
    log_path = (
        None if debugging() or console.verbose() else console.new_log_path(settings, job_name)
    )
    with contextlib.ExitStack() as stack:
        log = screen = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            print(f"{job_name} over {first}..{last}; Dagster's log: {log_path}", flush=True)
            # Dagster's records and everything else the run prints share the file, each through
            # its own file object (appended to, so neither overwrites the other): a text stream
            # written from several threads at once can lose what is written (CPython gh-118138),
            # and stray output comes from any thread; the records' handler is their one writer.
            log = stack.enter_context(log_path.open("a", encoding="utf-8", buffering=1))
            stray = stack.enter_context(log_path.open("a", encoding="utf-8", buffering=1))
            screen = stack.enter_context(console.output_to(stray))
        result, progress = _execute(settings, (first, last), job_name, log, screen)
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            key = evaluation.asset_check_key
            print(
                f"check failed: {key.asset_key.to_user_string()} {key.name}: "
                f"{evaluation.description or ''}"
            )
    if progress is not None:
        passed, failed = progress.checks()
        print(f"checks: {passed} passed, {failed} failed")
    failures = run_failures(result)
    for line in failures:
        print(f"chokepoint: error: {line}", file=sys.stderr)
    if failures or not result.success:
        full = any("No space left" in line or "disk is full" in line for line in failures)
        hint = "; free space and run again" if full else ""
        print(
            f"chokepoint: {warehouse_outcome(settings.warehouse_path, before)}{hint}",
            file=sys.stderr,
        )
        if log_path is not None:
            print(f"chokepoint: Dagster's log, tracebacks included: {log_path}", file=sys.stderr)
    return result.success


def _execute(
    settings: Settings,
    months: tuple[str, str],
    job_name: str,
    log: Any = None,
    screen: Any = None,
) -> tuple[Any, Any]:
    """Execute the job in process; with `log`, Dagster logs there and layers print to `screen`."""
    from assets.marts import worker

    # the suites' worker imports Great Expectations while the definitions are imported and the
    # run is prepared (this module and the worker's import no Dagster)
    worker.prestart()
    try:
        return _execute_job(settings, months, job_name, log, screen)
    finally:
        worker.drop_prestarted()


def _execute_job(
    settings: Settings,
    months: tuple[str, str],
    job_name: str,
    log: Any = None,
    screen: Any = None,
) -> tuple[Any, Any]:
    """`_execute` once the suites' worker is starting (it imports the definitions meanwhile)."""
    import dagster as dg

    from assets.common.landing import months_delivered
    from assets.common.partitions import range_tags, register_months
    from orchestration import console
    from orchestration.definitions import build_definitions
    from orchestration.sqlite_storage import event_log_kept_open

    definitions = build_definitions(settings)
    job = definitions.resolve_job_def(job_name)
    progress = None
    level = "INFO"
    if log is not None:
        progress = console.Progress(console.layers_of(job), screen)
        job = job.with_logger_defs({"console": console.file_logger(log, progress)})
        level = "DEBUG"
    elif not debugging():
        job = job.with_logger_defs({"console": console_logger_without_tracebacks()})
    with dg.DagsterInstance.get() as instance:
        # every delivered month is a partition (the sensors register them the same way)
        register_months(instance, months_delivered(settings.landing_dir))
        run_id = str(uuid.uuid4())  # as Dagster makes them; known before the run starts
        with event_log_kept_open(instance, run_id):
            result = job.execute_in_process(
                instance=instance,
                run_id=run_id,
                run_config={"loggers": {"console": {"config": {"log_level": level}}}},
                tags=range_tags(*months) if job.partitions_def is not None else {},
                raise_on_error=False,
            )
    if progress is not None:
        progress.finish()
    return result, progress


def add_verbose(parser: argparse.ArgumentParser) -> None:
    """`--verbose`: Dagster's log on the console, not a line per layer (CHOKEPOINT_VERBOSE=1)."""
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show Dagster's log on the console instead of one line per layer "
        "(or set CHOKEPOINT_VERBOSE=1)",
    )


def demo(args: argparse.Namespace) -> int:
    """Seed the landing area with the demo data and build everything."""
    if getattr(args, "verbose", False):
        os.environ["CHOKEPOINT_VERBOSE"] = "1"
    try:
        settings = Settings.from_env()
    except ValueError as error:
        raise CommandError(str(error)) from error
    check_writable(writable_folders(settings))
    before = file_state(settings.warehouse_path)
    try:
        prepare_dagster_home(settings)
        started = time.monotonic()
        copied = seed_landing(settings)
        print(
            f"landing area: {settings.landing_dir} "
            f"({len(copied)} files copied from the demo bundle)"
        )
        ok = build(settings)
    except Exception as error:
        cause = operational_error(error)
        if cause is None or isinstance(cause, CommandError):
            raise
        outcome = warehouse_outcome(settings.warehouse_path, before)
        raise CommandError(f"{describe(cause)}; {outcome}") from error
    print(f"build {'succeeded' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    if not ok:
        return 1
    from orchestration import console

    log = None if debugging() or console.verbose() else console.latest_log(settings)
    for label, path in (
        ("warehouse (read this)", settings.warehouse_path),
        ("report", settings.reports_dir / "report.html"),
        ("Data Docs", settings.reports_dir / "data_docs" / "index.html"),
        ("Dagster's log", log),
        ("dagster runs", settings.dagster_home),
    ):
        if path is not None:
            print(f"{label + ':':<24}{path}")
    for line in console.headline(settings.warehouse_path):
        print(line)
    print("query it: see README.md, 'A tour of the marts'")
    return 0


def dictionary(_: argparse.Namespace) -> int:
    from assets.common.dictionary import render

    target = REPO_ROOT / "docs" / "data_dictionary.md"
    target.write_text(render(), encoding="utf-8")
    print(target)
    return 0


def home(_: argparse.Namespace) -> int:
    settings = Settings.from_env()
    prepare_dagster_home(settings)
    print(settings.dagster_home)
    return 0


def main(argv: list[str] | None = None) -> int:
    from orchestration.commands import BadInput, register

    parser = argparse.ArgumentParser(
        prog="chokepoint",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, run, text in (
        ("demo", demo, "seed the landing area with the demo data and build everything"),
        ("dagster-home", home, "create DAGSTER_HOME (telemetry off) and print its path"),
        ("dictionary", dictionary, "write docs/data_dictionary.md from the data contracts"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.set_defaults(run=run)
        if name == "demo":
            add_verbose(command)
    register(commands)
    given = sys.argv[1:] if argv is None else list(argv)
    args, unknown = parser.parse_known_args(given)
    if getattr(args, "passes_arguments_on", False):  # `screen`: its own parser reads them
        args.arguments = given[given.index(args.command) + 1 :]
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return run_reporting_errors(args.run, args)
    except BadInput as error:
        print(f"chokepoint: error: {error}", file=sys.stderr)
        return 2


def run_reporting_errors(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; an operational error becomes one line on stderr and exit code 1."""
    try:
        return int(run(args))
    except SystemExit as error:
        if not isinstance(error.code, str) or debugging():
            raise
        message = error.code
    except Exception as error:
        cause = operational_error(error)
        if cause is None or debugging():
            raise
        message = describe(cause)
    print(f"chokepoint: error: {message}", file=sys.stderr)
    return 1


def entry() -> NoReturn:
    """The `chokepoint` command (and `python -m orchestration.cli`): `main`, then `exit_now`."""
    exit_now(main())


def exit_now(code: int) -> NoReturn:
    """End the process with `code` without the interpreter's teardown.

    Freeing Dagster's, polars', DuckDB's and their thousands of modules and objects one by one
    takes 0.4-0.7 s after every command, and nothing a command did waits on it. What an exit
    does that matters is still done here, in the interpreter's order: the threads that are not
    daemons are waited for (a run's pruning of kept publications), the exit handlers run
    (temporary folders, `weakref.finalize`), logging and the standard streams are flushed.
    """
    # as the interpreter does: the threading module's exit hooks (idle thread pools are woken
    # to end), then every thread that is not a daemon is waited for
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`)
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
