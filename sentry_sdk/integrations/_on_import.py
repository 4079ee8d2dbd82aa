"""Running code right after a module is imported, without importing it.

Integrations use this to patch a library the moment the program imports it, so that ``init``
never imports a framework (or a stdlib module) the program does not use. A module already
imported is handled at once.
"""

from __future__ import annotations

import sys

from .._log import report_internal_error

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any

__all__ = ["patch_when_imported"]

# Module name -> the calls waiting for it, in the order they were asked for.
_pending: dict[str, list[Callable[[ModuleType], None]]] = {}


def patch_when_imported(name: str, patch: Callable[[ModuleType], None]) -> None:
    """Call ``patch(module)`` now if the module ``name`` is imported, else right after its import.

    ``patch`` runs exactly once; an exception from it is reported as an internal error.
    """
    _pending.setdefault(name, []).append(patch)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    # Checked after the finder is in place, so an import racing with this cannot slip between.
    if name in sys.modules:
        _run_pending(sys.modules[name])


def _run_pending(module: ModuleType) -> None:
    patches = _pending.pop(module.__name__, ())  # pop: patched exactly once, whoever gets here first
    if not _pending:
        try:
            sys.meta_path.remove(_FINDER)
        except ValueError:
            pass
    for patch in patches:
        try:
            patch(module)
        except Exception:
            report_internal_error()


class _PatchOnImport:
    """A meta path finder for the modules waiting to be patched.

    It lets the other finders find such a module and wraps the loader they return, so that the
    module is patched right after its code ran. The real loader is put back before that, so the
    imported module looks exactly as if this finder had not been there; once nothing is pending,
    the finder removes itself.
    """

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name not in _pending:
            return None
        try:
            for finder in list(sys.meta_path):
                find_spec = getattr(finder, "find_spec", None)
                if finder is self or find_spec is None:
                    continue
                spec: ModuleSpec | None = find_spec(name, path, target)
                if spec is not None:
                    if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                        spec.loader = _PatchingLoader(spec.loader)  # type: ignore[assignment]
                    return spec
        except Exception:
            report_internal_error()
        return None  # the import system asks the other finders itself


class _PatchingLoader:
    """Runs the real loader, then the pending patch; everything else is the real loader's."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        loader = self._loader
        module.__loader__ = loader
        if module.__spec__ is not None:
            module.__spec__.loader = loader
        loader.exec_module(module)
        _run_pending(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


_FINDER = _PatchOnImport()
