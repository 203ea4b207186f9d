"""Package-level names that import their module only when first used (PEP 562).

Each subpackage's ``__init__`` states its public API as a mapping ``name -> module``. Importing the
package, or one module of it, does not import the others: ``pipeline.themes.corrections`` must not pay
for scikit-learn, which ``pipeline.themes.clustering`` imports, and a codebook run must not import UMAP.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]],
                                                                     list[str]]:
    """In: the package's ``__name__`` and ``{public name: module within the package}``.
    Out: ``(__getattr__, __dir__, __all__)`` for the package's ``__init__``."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{module}"), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__, sorted(exports)
