"""Script path -> handler. `agi://host:4573/crm-lookup` dispatches to the
handler registered for "crm-lookup".

Handlers are plain callables `handler(env: AgiEnv, channel: AgiChannel)`, run on
the connection's own thread, so Django code (ORM inside `schema_context`) can
be used directly; import models inside the handler module, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .protocol import normalize_path

if TYPE_CHECKING:  # pragma: no cover
    from .channel import AgiChannel
    from .protocol import AgiEnv

AgiHandler = Callable[["AgiEnv", "AgiChannel"], object]


class AgiRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, AgiHandler] = {}

    def register(self, path: str, *, replace: bool = False) -> Callable[[AgiHandler], AgiHandler]:
        """Decorator: `@register("crm-lookup")`. Registering a path twice is an
        error (two apps silently fighting over one path is worse)."""
        key = normalize_path(path)
        if not key:
            raise ValueError("AGI path must not be empty")

        def decorator(func: AgiHandler) -> AgiHandler:
            if key in self._handlers and not replace and self._handlers[key] is not func:
                raise ValueError(f"AGI path {key!r} is already registered")
            self._handlers[key] = func
            return func

        return decorator

    def resolve(self, path: str) -> AgiHandler | None:
        return self._handlers.get(normalize_path(path))

    def paths(self) -> list[str]:
        return sorted(self._handlers)


registry = AgiRegistry()  # the process-wide default used by `manage.py agi_serve`
register = registry.register
