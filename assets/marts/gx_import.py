"""Importing Great Expectations without the statistics and charting libraries the suites never call.

Great Expectations imports every expectation when it is imported, and one of them
(`ExpectColumnKLDivergenceToBeLessThan`) imports `scipy.stats` and `altair` at the top of its
module: 1.2-2 s of the suites' worker's start here, about a third of the import. The suites do
not use that expectation, nor the two KS-test metrics that import `scipy.stats` too, and Great
Expectations touches either library only inside functions. So while Great Expectations is
imported, each stands in `sys.modules` as a module that imports the real one the first time one
of its attributes is read; the names Great Expectations bound to it keep it, and once imported
it leaves `sys.modules`, so a later import anywhere gets the real module. An expectation that
needs one gets the whole library then. (`importlib.util.LazyLoader` does not serve: on
Python 3.11 an `import` of a module already in `sys.modules` reads its `__spec__`, which makes
a lazy module load at once.)
"""

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

# Libraries Great Expectations imports at its own import and touches only when it runs the
# expectations that use them
ON_FIRST_USE = ("scipy.stats", "altair")


class _OnFirstUse(ModuleType):
    """Stands in for a module until an attribute is read that it does not have."""

    def __getattr__(self, attribute: str) -> Any:  # (only for what the stand-in lacks)
        if sys.modules.get(self.__name__) is self:  # (read while Great Expectations imports)
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)


def _stand_in(name: str) -> _OnFirstUse | None:
    """A stand-in for `name` in `sys.modules`, bound on its package, unless it is imported."""
    if name in sys.modules:
        return None
    spec = importlib.util.find_spec(name)
    if spec is None:
        return None  # not installed: Great Expectations' own import reports it
    module = _OnFirstUse(name)
    module.__spec__ = spec  # (read by every `import` of it: found without loading it)
    sys.modules[name] = module
    package, _, attribute = name.rpartition(".")
    if package:
        setattr(importlib.import_module(package), attribute, module)
    return module


def _withdraw(module: _OnFirstUse) -> None:
    """Take a stand-in out of `sys.modules` and its package: the names Great Expectations bound
    to it go on reading through it, and any later import gets the real module."""
    name = module.__name__
    if sys.modules.get(name) is module:
        del sys.modules[name]
    package, _, attribute = name.rpartition(".")
    parent = sys.modules.get(package) if package else None
    if parent is not None and parent.__dict__.get(attribute) is module:
        delattr(parent, attribute)  # (scipy imports its submodules on first use itself)


def great_expectations() -> ModuleType:
    """The `great_expectations` module, imported with `ON_FIRST_USE` standing in until used."""
    if "great_expectations" in sys.modules:
        return sys.modules["great_expectations"]
    stand_ins = [module for name in ON_FIRST_USE if (module := _stand_in(name)) is not None]
    try:
        import great_expectations as gx
    finally:
        for module in stand_ins:
            _withdraw(module)
    return gx
