"""Data Docs' templates compiled once per process (`assets.marts.docs_templates`)."""

from collections.abc import Iterator

import jinja2
import pytest

from assets.marts import docs_templates
from assets.marts.gx_import import great_expectations


@pytest.fixture
def compilations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the templates Jinja compiles from source while the test runs."""
    compiled: list[str] = []
    compile_ = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: str, name: str | None = None, *a, **k):  # type: ignore[no-untyped-def]
        compiled.append(str(name))
        return compile_(self, source, name, *a, **k)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    yield compiled


def test_a_second_view_reuses_the_first_views_compiled_templates(
    compilations: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    great_expectations()
    from great_expectations.render.view.view import DefaultJinjaPageView, DefaultJinjaView

    # put back after the test: `share` changes the class for the whole process
    monkeypatch.setattr(DefaultJinjaView, "__init__", DefaultJinjaView.__init__)
    docs_templates.CACHE.kept.clear()
    docs_templates.share()
    docs_templates.share()  # a second call wraps nothing twice
    first, second = DefaultJinjaPageView(), DefaultJinjaPageView()
    first.env.get_template("page.j2")
    compiled_by_first = list(compilations)
    template = second.env.get_template("page.j2")
    assert "page.j2" in compiled_by_first
    assert compilations == compiled_by_first  # nothing compiled again for the second view
    assert template.environment is second.env  # run with the second view's filters
    assert second.env.filters["render_content_block"].__self__ is second


def test_without_the_shared_cache_each_view_compiles_again(compilations: list[str]) -> None:
    env_a, env_b = (jinja2.Environment(loader=jinja2.DictLoader({"t": "{{ x }}"})) for _ in "ab")
    env_a.get_template("t")
    env_b.get_template("t")
    assert compilations == ["t", "t"]


def test_a_changed_template_is_compiled_again_not_served_from_the_cache(
    compilations: list[str],
) -> None:
    cache = docs_templates._InMemory()
    old = jinja2.Environment(loader=jinja2.DictLoader({"t": "old {{ x }}"}), bytecode_cache=cache)
    new = jinja2.Environment(loader=jinja2.DictLoader({"t": "new {{ x }}"}), bytecode_cache=cache)
    same = jinja2.Environment(loader=jinja2.DictLoader({"t": "old {{ x }}"}), bytecode_cache=cache)
    assert old.get_template("t").render(x=1) == "old 1"
    assert new.get_template("t").render(x=2) == "new 2"
    assert compilations == ["t", "t"]
    assert same.get_template("t").render(x=3) == "old 3"
    assert compilations == ["t", "t", "t"]  # the cache holds the newest source's code only
