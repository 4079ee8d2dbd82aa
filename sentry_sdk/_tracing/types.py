"""The shape of a scope as tracing uses it, for type checking only (no import of the scope)."""

from __future__ import annotations

# typing is not imported at runtime: it costs more than the rest of 'import sentry_sdk'.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    class TracingScope(Protocol):
        """A scope: its running span, and its trace when none runs."""

        _span: Any
        _propagation: Any

        @property
        def span(self) -> Any: ...

        @span.setter
        def span(self, value: Any) -> None: ...

        def get_propagation_context(self) -> Any: ...

    class BoundClient(Protocol):
        """What tracing uses of the bound client."""

        @property
        def options(self) -> dict[str, Any]: ...

        @property
        def transport(self) -> Any: ...

        def is_active(self) -> bool: ...


__all__: list[str] = []
