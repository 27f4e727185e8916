"""Importing Great Expectations without the statistics and charting libraries the suites never call.

Great Expectations imports every expectation when it is imported, and one of them
(`ExpectColumnKLDivergenceToBeLessThan`) imports `scipy.stats` and `altair` at the top of its
module: 1.2-2 s of the suites' worker's start here, about a third of the import. The suites do
not use that expectation, nor the two KS-test metrics that import `scipy.stats` too, and Great
Expectations touches either library only inside functions. So each stands in `sys.modules` as a
module that imports the real one the first time one of its attributes is read: an expectation
that needs one gets the whole library then. (`importlib.util.LazyLoader` does not serve: on
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
        return getattr(_real(self.__name__), attribute)


def _real(name: str) -> ModuleType:
    """The module `name` itself, imported now if only its stand-in was."""
    if isinstance(sys.modules.get(name), _OnFirstUse):
        del sys.modules[name]
    return importlib.import_module(name)  # (binds it on its package too)


def _stand_in(name: str) -> None:
    """`name` in `sys.modules` as a stand-in, bound on its package, unless it is imported."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return  # not installed: Great Expectations' own import reports it
    module = _OnFirstUse(name)
    module.__spec__ = spec  # (read by every `import` of it: found without loading it)
    sys.modules[name] = module
    package, _, attribute = name.rpartition(".")
    if package:
        setattr(importlib.import_module(package), attribute, module)


def great_expectations() -> ModuleType:
    """The `great_expectations` module, imported with `ON_FIRST_USE` standing in until used."""
    if "great_expectations" not in sys.modules:
        for name in ON_FIRST_USE:
            _stand_in(name)
    import great_expectations as gx

    return gx
