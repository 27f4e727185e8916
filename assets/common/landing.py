"""The landing area: where source files arrive before the pipeline reads them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


class LandingArea(dg.ConfigurableResource):  # type: ignore[misc]
    """A directory of received files, one sub-folder per source."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)

    def file(self, relative: str) -> Path:
        return self.root / relative
