"""Great Expectations Data Docs that work with no network: vendored assets, no links out.

GX's page templates load jQuery, Bootstrap, bootstrap-table, Font Awesome and Vega from CDNs, show
a logo from S3 and link to greatexpectations.io. `make_offline` copies the pinned files kept in
`data_docs_vendor/` (listed with their CDN addresses in its `vendor.json`) into the site and
points every page at them with relative paths, so that the site works from `file://` or any
folder it is copied to. Links out of the site keep their text and lose their target, GX's two
footers (newsletter, tutorials) go, and the logo comes from the site's own `static/images`.
"""

import json
import re
import shutil
from functools import cache
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

VENDOR_DIR = Path(__file__).with_name("data_docs_vendor")
SITE_VENDOR = "static/vendor/"
# GX's logos on S3, by file name: the site ships its own copy of the light one.
_LOGOS = {
    "logo-long.png": "static/images/logo-long.png",
    "full_logo_dark.png": "static/images/logo-long.png",
}
_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]*)\1\s*\)", re.IGNORECASE)
_RESOURCE = {"script": "src", "img": "src", "link": "href", "source": "src", "iframe": "src"}


@cache
def vendored() -> dict[str, str]:
    """Each CDN address the GX templates use, mapped to its copy under the vendor folder."""
    listing = json.loads((VENDOR_DIR / "vendor.json").read_text(encoding="utf-8"))
    return {url: item["path"] for item in listing["files"] for url in item["replaces"]}


def local(url: str, root: str) -> str | None:
    """The site-relative replacement for a resource address, or None to drop it."""
    if not _EXTERNAL.match(url):
        path = url.strip()
        # GX writes "../" once too few on validation pages; anchor "static/" at the site root.
        bare = re.sub(r"^(?:\.\.?/)+", "", path)
        return root + bare if bare.startswith("static/") else path
    if url.strip() in vendored():
        return root + SITE_VENDOR + vendored()[url.strip()]
    logo = _LOGOS.get(urlsplit(url.strip()).path.rsplit("/", 1)[-1])
    return root + logo if logo else None


def _css(text: str, root: str) -> str:
    """Stylesheet text with every `url(...)` local (an unknown external one becomes `none`)."""

    def swap(match: re.Match[str]) -> str:
        if match[2].startswith("data:"):
            return match[0]
        target = local(match[2], root)
        return f"url('{target}')" if target else "none"

    return _CSS_URL.sub(swap, text)


class _Rewriter(HTMLParser):
    """Collects the splices (start, end, replacement) that make one page self-contained."""

    def __init__(self, html: str, root: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html, self.root = html, root
        self.splices: list[tuple[int, int, str]] = []
        self._lines = [0] + [i + 1 for i, c in enumerate(html) if c == "\n"]
        self._dropping: tuple[str, int] | None = None  # element being removed: tag, start
        self._anchors: list[bool] = []  # open <a> elements: does each lose its tags?
        self._in_style = False

    def _at(self) -> int:
        line, column = self.getpos()
        return self._lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropping:
            return
        start = self._at()
        raw = self.get_starttag_text() or ""
        values = dict(attrs)
        if tag == "footer":
            self._dropping = (tag, start)
        elif tag == "a":
            outward = bool(_EXTERNAL.match(values.get("href") or ""))
            self._anchors.append(outward)
            if outward:
                self.splices.append((start, start + len(raw), ""))
        elif tag == "style":
            self._in_style = True
        elif tag in _RESOURCE and values.get(_RESOURCE[tag]):
            target = local(values[_RESOURCE[tag]] or "", self.root)
            if target is None:
                if tag == "script":
                    self._dropping = (tag, start)
                else:
                    self.splices.append((start, start + len(raw), ""))
                return
            # A copy on disk fails subresource integrity checks from file:// (opaque origin).
            kept = [
                (k, target if k == _RESOURCE[tag] else v)
                for k, v in attrs
                if k not in ("integrity", "crossorigin")
            ]
            rebuilt = "".join(f" {k}" if v is None else f' {k}="{escape(v)}"' for k, v in kept)
            self.splices.append((start, start + len(raw), f"<{tag}{rebuilt}>"))

    def handle_endtag(self, tag: str) -> None:
        start = self._at()
        end = self.html.index(">", start) + 1
        if self._dropping:
            if self._dropping[0] == tag:
                self.splices.append((self._dropping[1], end, ""))
                self._dropping = None
        elif tag == "a" and self._anchors and self._anchors.pop():
            self.splices.append((start, end, ""))
        elif tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and not self._dropping:
            start = self._at()
            self.splices.append((start, start + len(data), _css(data, self.root)))


def offline_page(html: str, root: str) -> str:
    """One page rewritten to use the site's vendored files; `root` leads from it to the site."""
    rewriter = _Rewriter(html, root)
    rewriter.feed(html)
    rewriter.close()
    for start, end, text in sorted(rewriter.splices, reverse=True):
        html = html[:start] + text + html[end:]
    return html


def make_offline(docs: Path) -> None:
    """Copy the vendored files into the Data Docs site in `docs`; point its pages at them."""
    shutil.copytree(VENDOR_DIR, docs / SITE_VENDOR, dirs_exist_ok=True)
    for path in [*docs.rglob("*.html"), *(docs / "static" / "styles").glob("*.css")]:
        if (docs / SITE_VENDOR) in path.parents:
            continue
        # Relative addresses start from the file's own folder: "../" per level below the site.
        root = "../" * (len(path.relative_to(docs).parts) - 1)
        text = path.read_text(encoding="utf-8")
        rewrite = _css if path.suffix == ".css" else offline_page
        path.write_text(rewrite(text, root), encoding="utf-8")
