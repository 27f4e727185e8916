"""Data Docs' Jinja templates compiled once per process instead of once per view.

Great Expectations renders each page and each content block through a view
(`DefaultJinjaView`) that makes a Jinja environment of its own, so its templates are parsed and
compiled again for every view: 106 compilations in one demo build's Data Docs. `share()` gives
every view's environment one in-memory bytecode cache (Jinja's own mechanism, as
`FileSystemBytecodeCache` is across processes): a template is compiled once, and another
environment runs the same code with its own filters and globals. Jinja checks each template's
source against the checksum kept with its code, so a changed template is compiled again.
"""

from typing import Any

import jinja2
from jinja2.bccache import Bucket


class _InMemory(jinja2.BytecodeCache):
    """Compiled templates by Jinja's key (name and file), with their source's checksum."""

    def __init__(self) -> None:
        self.kept: dict[str, tuple[str, Any]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        checksum, code = self.kept.get(bucket.key, (None, None))
        if checksum == bucket.checksum:
            bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.kept[bucket.key] = (bucket.checksum, bucket.code)


CACHE = _InMemory()


def share() -> None:
    """Make every Great Expectations view made from now on in this process use `CACHE`."""
    from great_expectations.render.view.view import DefaultJinjaView

    made = DefaultJinjaView.__init__
    if getattr(made, "shares_compiled_templates", False):
        return

    def __init__(self: DefaultJinjaView, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        self.env.bytecode_cache = CACHE

    __init__.shares_compiled_templates = True  # type: ignore[attr-defined]
    DefaultJinjaView.__init__ = __init__  # type: ignore[method-assign]
