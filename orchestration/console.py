"""The quiet console of `demo` and `build`: one line per layer, the full Dagster log in a file.

Dagster's events go to a logger that writes every record (debug events and whole tracebacks
included) to `<data dir>/logs/<job>-<UTC time>.log` and counts each layer's steps (a layer is the
first part of an asset key: raw, staging, core, marts, audit); a layer's line is printed when
its last step ends, a layer with steps that never ran at the end of the run. The warnings and
errors a step logs (a refused file, a held delivery) and a wait for another run's lock are
shown as they come, indented; the steps' other messages go to the file.
Whatever else the run prints (Great Expectations' tqdm bars, warnings, library loggers, native
code) goes to the same file: stdout and stderr point at it while the run lasts, file
descriptors included.
`--verbose` or `CHOKEPOINT_VERBOSE=1` gives Dagster's console log instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import duckdb

from orchestration.settings import Settings

# Dagster's console format, so that the file reads like the old console output.
_FORMAT = "%(asctime)s - dagster - %(levelname)s - %(message)s"
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"


def verbose() -> bool:
    """Whether CHOKEPOINT_VERBOSE (or `--verbose`) asks for Dagster's console log."""
    return os.environ.get("CHOKEPOINT_VERBOSE", "") not in ("", "0")


def new_log_path(settings: Settings, job_name: str) -> Path:
    """A new log file for a run of `job_name`, named by the UTC time it starts."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return settings.data_dir / "logs" / f"{job_name}-{stamp}.log"


def latest_log(settings: Settings, job_name: str = "build_everything") -> Path | None:
    """The newest log file of `job_name`, if any."""
    logs = sorted((settings.data_dir / "logs").glob(f"{job_name}-*.log"))
    return logs[-1] if logs else None


def layers_of(job: Any) -> dict[str, str]:
    """Each top-level step of an asset job with its layer (the first part of its asset keys)."""
    from dagster._core.definitions.dependency import NodeHandle

    layers = {}
    for node in job.graph.nodes:
        keys = job.asset_layer.get_selected_entity_keys_for_node(NodeHandle(node.name, None))
        names = sorted({getattr(key, "asset_key", key).path[0] for key in keys})
        layers[node.name] = names[0] if names else "other"
    return layers


# Dagster's engine logs this (no event) for a step whose inputs were not produced.
_NOT_EXECUTED = re.compile(
    r"^Dependencies for step (\S+?)(?: failed| were not executed).*Not executing\.$"
)

# The one info message a console must show: the warehouse resource waiting for another run's
# lock (assets/common/warehouse.py), else the console looks stuck for up to half an hour.
_SHOWN_INFO = ("waiting up to ",)


@dataclass
class Layer:
    """What one layer's steps did so far."""

    name: str
    steps: int = 0
    ended: int = 0  # succeeded, failed or not executed
    assets: set[str] = field(default_factory=set)  # materialised asset keys
    failed: list[str] = field(default_factory=list)
    not_run: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    seconds: float = 0.0  # the sum of its steps' times (steps run one after another)
    first_start: float = float("inf")
    shown: bool = False

    def line(self, width: int) -> str:
        """`raw      ✓   8.1 s  13 assets, 39 checks`; ✗ and what went wrong otherwise."""
        good = self.ended == self.steps and not (self.failed or self.not_run or self.checks_failed)
        parts = [f"{len(self.assets)} asset{'' if len(self.assets) == 1 else 's'}"]
        checks = self.checks_passed + self.checks_failed
        if self.checks_failed:
            parts.append(f"{self.checks_failed} of {checks} checks FAILED")
        elif checks:
            parts.append(f"{checks} check{'' if checks == 1 else 's'}")
        if self.failed:
            parts.append("FAILED: " + ", ".join(self.failed))
        if self.not_run or self.ended < self.steps:
            parts.append(f"{self.steps - self.ended + self.not_run} of {self.steps} steps not run")
        mark = "✓" if good else "✗"
        return f"{self.name:<{width}} {mark} {self.seconds:6.1f} s  {', '.join(parts)}"


class Progress(logging.Handler):
    """Reads Dagster's events from log records and prints one line per finished layer."""

    def __init__(self, step_layers: dict[str, str], console: TextIO) -> None:
        super().__init__(logging.DEBUG)
        self.console = console
        self.layers: dict[str, Layer] = {}
        self.step_layer: dict[str, Layer] = {}
        for step, name in step_layers.items():
            layer = self.layers.setdefault(name, Layer(name))
            layer.steps += 1
            self.step_layer[step] = layer
        self.started: dict[str, float] = {}
        self.width = max((len(name) for name in self.layers), default=0)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None)
        if not isinstance(meta, dict):
            return
        event = meta.get("dagster_event")
        if event is None:
            skipped = _NOT_EXECUTED.match(str(meta.get("orig_message", "")))
            if skipped is None:
                self.say(record, meta)
            elif (layer := self.step_layer.get(skipped[1])) is not None:
                layer.not_run += 1
                self.ended(layer)
            return
        layer = self.step_layer.get((event.step_key or "").split(".")[0])
        if layer is None:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[event.step_key] = record.created
            layer.first_start = min(layer.first_start, record.created)
        elif kind == "ASSET_MATERIALIZATION" and event.asset_key is not None:
            layer.assets.add(event.asset_key.to_user_string())
        elif kind == "ASSET_CHECK_EVALUATION":
            if event.event_specific_data.passed:
                layer.checks_passed += 1
            else:
                layer.checks_failed += 1
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            layer.seconds += record.created - self.started.pop(event.step_key, record.created)
            if kind == "STEP_FAILURE":
                layer.failed.append(event.step_key)
            elif kind == "STEP_SKIPPED":
                layer.not_run += 1
            self.ended(layer)

    def ended(self, layer: Layer) -> None:
        layer.ended += 1
        if layer.ended >= layer.steps:
            self.show(layer)

    def say(self, record: logging.LogRecord, meta: dict[str, Any]) -> None:
        """Show the warnings and errors a step logs, and a resource's wait for another run."""
        text = str(meta.get("orig_message", record.getMessage())).strip()
        if record.levelno < logging.WARNING and not text.startswith(_SHOWN_INFO):
            return
        where = meta.get("step_key") or f"resource {meta.get('resource_name') or ''}".strip()
        level = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        message = f"  {where}: {level}{text}".replace("\n", "\n    ")
        print(message, file=self.console, flush=True)

    def show(self, layer: Layer) -> None:
        if not layer.shown:
            layer.shown = True
            print(layer.line(self.width), file=self.console, flush=True)

    def finish(self) -> None:
        """Print the line of every layer not shown yet, in the order they started."""
        for layer in sorted(self.layers.values(), key=lambda layer: layer.first_start):
            self.show(layer)

    def checks(self) -> tuple[int, int]:
        """Asset checks passed and failed in the run."""
        layers = self.layers.values()
        return sum(x.checks_passed for x in layers), sum(x.checks_failed for x in layers)


def file_logger(log: TextIO, progress: Progress) -> Any:
    """A Dagster logger definition: every record to `log`, events to `progress`."""
    import dagster as dg

    to_file = logging.StreamHandler(log)
    to_file.setFormatter(logging.Formatter(_FORMAT, _DATE_FORMAT))

    @dg.logger(config_schema={"log_level": dg.Field(str, default_value="DEBUG")})
    def quiet(init_context: Any) -> logging.Logger:
        logger = logging.Logger("chokepoint.run", init_context.logger_config["log_level"])
        logger.addHandler(to_file)
        logger.addHandler(progress)
        return logger

    return quiet


@contextlib.contextmanager
def output_to(log: TextIO) -> Iterator[TextIO]:
    """Point stdout and stderr (Python's and file descriptors 1 and 2) at `log` while it lasts,
    and libraries' warnings (the root logger).

    Yields the stream that still reaches the console.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    own_console = sys.stdout is sys.__stdout__  # else a caller (pytest) captures sys.stdout
    saved: dict[int, int] = {}
    console = sys.stdout
    to_file = logging.StreamHandler(log)
    to_file.setLevel(logging.WARNING)
    to_file.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
    try:
        if own_console:
            console = open(  # noqa: SIM115 (closed in the finally below)
                os.dup(sys.stdout.fileno()),
                "w",
                encoding=sys.stdout.encoding,
                errors="replace",
                buffering=1,
            )
        for fd in (1, 2):
            with contextlib.suppress(OSError):  # a closed descriptor stays closed
                saved[fd] = os.dup(fd)
                os.dup2(log.fileno(), fd)
        # libraries' own warnings (Python's last-resort handler writes them to stderr anyway)
        logging.getLogger().addHandler(to_file)
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield console
    finally:
        logging.getLogger().removeHandler(to_file)
        log.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        if console is not sys.stdout:
            console.close()


def headline(warehouse: Path) -> list[str]:
    """The story in a few lines, queried from the published marts; a query that fails says so."""
    queries = (
        (
            "top importer",
            "select year, importer_name, importer_inn, total_imports_usd, shipments, "
            "defence_sales_share from marts.importer_profile where risk_rank = 1 "
            "order by year desc limit 1",
            lambda r: (
                f"{r[1]} (INN {r[2]}) in {r[0]}: {r[3]:,.2f} USD of imports, "
                f"{r[4]} shipments, {_percent(r[5])} of its sales to defence buyers"
            ),
        ),
        (
            "flagged",
            "select count(distinct declaration_id), count(*) from marts.flagged_shipments",
            lambda r: f"{r[0]} shipments ({r[1]} flags, one per reason)",
        ),
        (
            "lists used",
            "select string_agg(distinct sanctions_list_versions, ', ' "
            "order by sanctions_list_versions) from marts.dual_use_trade_monthly",
            lambda r: f"{r[0]}",
        ),
        (
            "expectations",
            "select count(*) filter (where success), count(*) filter (where not success) "
            "from audit.mart_quality",
            lambda r: f"{r[0]} met, {r[1]} failed (Great Expectations, audit.mart_quality)",
        ),
    )
    lines = []
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as error:
        return [f"figures unavailable: {' '.join(str(error).split())}"]
    with con:
        for label, sql, text in queries:
            try:
                row = con.execute(sql).fetchone()
                said = text(row) if row is not None else "no rows"
            except (duckdb.Error, TypeError, ValueError) as error:
                said = f"unavailable ({' '.join(str(error).split())[:120]})"
            lines.append(f"{label + ':':<24}{said}")
    return lines


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"
