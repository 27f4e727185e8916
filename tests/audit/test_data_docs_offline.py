"""The Great Expectations Data Docs work offline: in a real headless Chromium with no network.

Every request a page makes that is not a `file://` one fails the test; so does a `file://` one to
a file the site lacks. Debian's chromium (`/usr/bin/chromium`) is driven by playwright; `.ci/run`
installs it, and with `CHOKEPOINT_REQUIRE_CHROMIUM=1` (set there) a missing browser fails the test
instead of skipping it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import pytest
from conftest import DemoBuild

from assets.marts.catalog import MARTS
from assets.marts.data_docs import SITE_VENDOR, VENDOR_DIR, offline_page

pytestmark = pytest.mark.e2e  # builds of its own: `make test-e2e`

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request, Route

CHROMIUM = Path("/usr/bin/chromium")
# The flags this machine's Chromium needs (see the environment notes): no background networking.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Links that would leave the machine (bootstrap-table's pager links are "javascript:void(0)").
OUTWARD = "[...document.links].map(a => a.href).filter(h => !/^(file|javascript):/.test(h))"
SOLID_FACE = '[...document.fonts].some(f => f.family.includes("Font Awesome 6 Free") '
SOLID_FACE += '&& f.weight === "900" && f.status === "loaded")'
# Per icon: rendered box, and the family its ::before glyph is drawn in.
ICONS = """(root) => [...document.querySelectorAll(root + ' i.fas')].map(i => ({
    width: i.getBoundingClientRect().width,
    height: i.getBoundingClientRect().height,
    family: getComputedStyle(i, '::before').fontFamily,
    success: i.classList.contains('fa-check-circle'),
}))"""


@dataclass
class Visit:
    """A page opened in the browser, with every request that went wrong."""

    page: Page
    outside: list[str] = field(default_factory=list)  # not file://: blocked
    missing: list[str] = field(default_factory=list)  # file:// that failed
    errors: list[str] = field(default_factory=list)  # uncaught script errors


@pytest.fixture(scope="module")
def docs(demo_build: DemoBuild) -> Path:
    """The demo build's Data Docs site."""
    assert demo_build.succeeded, "the demo build failed; see the Dagster logs above"
    return demo_build.settings.reports_dir / "data_docs"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, under playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("CHOKEPOINT_REQUIRE_CHROMIUM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        yield launched
        launched.close()


def visit(browser: Browser, page_path: Path) -> Visit:
    """Open a page from disk in a fresh offline context that blocks and records other requests."""
    context = browser.new_context(offline=True)
    visit = Visit(context.new_page())

    def guard(route: Route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    def record(request: Request) -> None:
        if not request.url.startswith(("file:", "data:")):
            visit.outside.append(request.url)

    context.route("**/*", guard)
    context.on("request", record)
    visit.page.on("requestfailed", lambda r: visit.missing.append(r.url))
    visit.page.on("pageerror", lambda error: visit.errors.append(str(error)))
    visit.page.goto(page_path.as_uri(), wait_until="load")
    return visit


def _clean(visit: Visit) -> None:
    assert not visit.outside, f"requests off the machine: {sorted(set(visit.outside))}"
    assert not visit.missing, f"files the site lacks: {sorted(set(visit.missing))}"
    assert not visit.errors, f"script errors: {visit.errors}"


def _expected_status(demo_build: DemoBuild) -> dict[str, bool]:
    """Suite name -> whether all its expectations held, from the run's manifest."""
    manifest = json.loads((demo_build.settings.reports_dir / "manifest.json").read_text())
    status: dict[str, bool] = {}
    for item in manifest["expectations"]:
        suite = (
            "reconciliation" if item["dataset"] == "reconciliation" else f"marts.{item['dataset']}"
        )
        status[suite] = status.get(suite, True) and bool(item["success"])
    return status


def test_vendored_files_match_their_listing() -> None:
    listing = json.loads((VENDOR_DIR / "vendor.json").read_text())
    for item in listing["files"]:
        data = (VENDOR_DIR / item["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == item["sha256"], item["path"]
    for package in listing["packages"]:
        assert package["licence"] and (VENDOR_DIR / package["licence_file"]).is_file()
    kept = {p.relative_to(VENDOR_DIR).as_posix() for p in VENDOR_DIR.rglob("*") if p.is_file()}
    listed = {i["path"] for i in listing["files"]} | {
        p["licence_file"] for p in listing["packages"]
    }
    assert kept - listed == {"vendor.json", "VENDOR.md"}


def test_page_rewrite_points_deep_pages_at_the_site_root() -> None:
    page = (
        '<link rel="stylesheet" href="https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/'
        'css/all.min.css"><script src="https://code.jquery.com/jquery-3.7.1.min.js" '
        'integrity="sha384-x" crossorigin="anonymous"></script>'
        '<script src="https://example.org/unknown.js"></script>'
        '<link rel="icon" href="../../static/images/favicon.ico">'
        '<p>By <a href="https://greatexpectations.io">GX</a>, <a href="../a.html">a</a>.</p>'
        "<style>a{background:url('https://x.s3.amazonaws.com/full_logo_dark.png')}</style>"
        '<footer><a href="https://greatexpectations.io/newsletter">Subscribe</a></footer>'
    )
    out = offline_page(page, "../../../")
    assert (
        'href="../../../static/vendor/@fortawesome/fontawesome-free@6.6.0/css/all.min.css"' in out
    )
    assert '<script src="../../../static/vendor/jquery@3.7.1/dist/jquery.min.js"></script>' in out
    assert 'href="../../../static/images/favicon.ico"' in out
    assert "url('../../../static/images/logo-long.png')" in out
    assert '<p>By GX, <a href="../a.html">a</a>.</p>' in out
    assert not re.search("https?://|footer|Subscribe|unknown|integrity", out)


def test_no_page_or_stylesheet_names_an_outside_address(docs: Path) -> None:
    pages = [
        p for p in [*docs.rglob("*.html"), *docs.rglob("*.css")] if SITE_VENDOR not in p.as_posix()
    ]
    assert len(pages) > 2 * len(MARTS)
    for path in pages:
        found = re.findall(r"https?://[^\s\"'<>)]*", path.read_text(encoding="utf-8"))
        assert not found, f"{path.relative_to(docs)}: {found}"


def test_index_lists_every_validation_with_its_status(
    browser: Browser, docs: Path, demo_build: DemoBuild, tmp_path: Path
) -> None:
    expected = _expected_status(demo_build)
    assert set(expected) == {f"marts.{m}" for m in MARTS} | {"reconciliation"}
    index = visit(browser, docs / "index.html")
    page = index.page
    page.screenshot(path=tmp_path / "index.png", full_page=True)
    # The table shows ten rows a page (bootstrap-table): its own script says how many rows it
    # holds, and shows them all when asked to stop paginating.
    table = "table.ge-index-page-validation-results-table"
    total = page.evaluate(f"$('{table}').bootstrapTable('getOptions').totalRows")
    assert total == len(expected)
    page.evaluate(f"$('{table}').bootstrapTable('refreshOptions', {{pagination: false}})")
    rows = page.locator(f"{table} tbody tr")
    shown = {
        rows.nth(i).locator("a.ge-index-page-table-expectation-suite-link").inner_text().strip(): (
            rows.nth(i).locator("i.ge-success-icon").count() == 1
        )
        for i in range(rows.count())
    }
    assert rows.count() == len(expected)
    assert shown == expected
    page.reload(wait_until="load")  # back to the first page
    for icon in page.evaluate(ICONS, "table.ge-index-page-validation-results-table"):
        assert icon["width"] > 0 and icon["height"] > 0
        assert "Font Awesome 6 Free" in icon["family"]
    assert page.evaluate(SOLID_FACE), "Font Awesome's solid face did not load"
    assert not page.evaluate(OUTWARD)
    _clean(index)

    # A row is a link (set up by the page's scripts) to its validation page.
    suite = f"marts.{MARTS[0]}"
    page.evaluate(f"$('{table}').bootstrapTable('refreshOptions', {{pagination: false}})")
    page.locator(f"{table} tbody tr", has_text=suite).first.click()
    page.wait_for_url(re.compile(r"/validations/.+\.html$"))
    page.wait_for_load_state("load")
    page.screenshot(path=tmp_path / "validation.png", full_page=True)
    icons = page.evaluate(ICONS, "body")
    assert len(icons) > 1
    for icon in icons:
        assert icon["width"] > 0 and icon["height"] > 0
        assert "Font Awesome 6 Free" in icon["family"]
    assert page.evaluate(SOLID_FACE), "Font Awesome's solid face did not load"
    _clean(index)
    page.context.close()


def test_every_page_loads_from_disk_alone(browser: Browser, docs: Path) -> None:
    pages = sorted(p for p in docs.rglob("*.html") if SITE_VENDOR not in p.as_posix())
    for path in pages:
        opened = visit(browser, path)
        assert opened.page.evaluate("typeof jQuery.fn.bootstrapTable") == "function", path
        assert opened.page.evaluate("typeof vegaEmbed") == "function", path
        assert not opened.page.evaluate(OUTWARD), path
        _clean(opened)
        opened.page.context.close()


def test_the_report_and_its_run_copy_render_offline(
    browser: Browser, demo_build: DemoBuild
) -> None:
    """The auditor's report: charts drawn, every link followed to a page on disk, no network."""
    reports = demo_build.settings.reports_dir
    copies = sorted(reports.glob("runs/*/report.html"))
    assert copies, "a copy of the report is kept per run"
    for page_path in (reports / "report.html", copies[-1]):
        opened = visit(browser, page_path)
        _clean(opened)
        page = opened.page
        sizes = page.eval_on_selector_all(
            "svg", "charts => charts.map(c => [c.getBBox().width, c.getBBox().height])"
        )
        assert len(sizes) >= 4 and all(w > 0 and h > 0 for w, h in sizes), sizes
        assert page.locator("text=Summary").count() >= 1
        links = page.eval_on_selector_all(
            "a[href]:not([href^='#'])", "links => links.map(a => a.href)"
        )
        assert any(link.endswith("data_docs/index.html") for link in links)
        for link in links:
            assert link.startswith("file://"), link
            followed = visit(browser, Path(unquote(urlparse(link).path)))
            assert not followed.outside and not followed.missing, link
            followed.page.context.close()
        page.context.close()
