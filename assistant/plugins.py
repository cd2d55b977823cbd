"""One seam for built-ins and plug-ins: converters, embedders, composers and stores register here.

Built-ins come in through the same door a bank's own package uses, as simonw/llm loads its default
plugins: a function ``register(registry)``, listed in ``BUILTINS`` or named by a package in the
``strategy_advisor`` entry-point group (``[project.entry-points.strategy_advisor]`` in its
pyproject). So a bank adds an OCR converter or its own embedder without editing our files.
May import: nothing from the package (plug-ins are imported by name, lazily, on first use).

    registry = default_registry()
    registry.names("converter")                 # ['.docx', '.markdown', '.md', '.pdf', '.txt']
    text = registry.get("converter", ".pdf")("policy.pdf", data)
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

KINDS = ("converter", "embedder", "composer", "store")
ENTRY_POINT_GROUP = "strategy_advisor"
BUILTINS = (
    "assistant.knowledge.converters:register",
    "assistant.search.embeddings:register",
    "assistant.search.onnx_embedder:register",
    "assistant.search.multilingual:register",
    "assistant.search.store:register",
    "assistant.answers.llm:register",
)


class PluginError(ValueError):
    """A plug-in that cannot be found or loaded; the message names it and what is available."""


class Registry:
    """Named factories by kind.

    >>> r = Registry()
    >>> r.register("converter", ".csv", lambda name, data: data.decode())
    >>> r.get("converter", ".csv")("a.csv", b"x,y")
    'x,y'
    """

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Callable[..., Any]]] = {kind: {} for kind in KINDS}
        self._owners: dict[tuple[str, str], str] = {}
        self.loading = "(direct)"

    def register(self, kind: str, name: str, factory: Callable[..., Any], *, replace: bool = False) -> None:
        if kind not in self._items:
            raise PluginError(f"plug-in kind must be one of {', '.join(KINDS)} (got {kind!r})")
        if not callable(factory):
            raise PluginError(f"{kind} {name!r}: the factory must be callable (got {type(factory).__name__})")
        key = name.lower()
        if key in self._items[kind] and not replace:
            raise PluginError(f"{kind} {name!r} is registered twice ({self._owners[(kind, key)]} and "
                              f"{self.loading}); pass replace=True to override a built-in on purpose")
        self._items[kind][key] = factory
        self._owners[(kind, key)] = self.loading

    def get(self, kind: str, name: str) -> Callable[..., Any]:
        items = self._items.get(kind)
        if items is None:
            raise PluginError(f"plug-in kind must be one of {', '.join(KINDS)} (got {kind!r})")
        try:
            return items[name.lower()]
        except KeyError:
            raise PluginError(f"no {kind} named {name!r}; available: {', '.join(self.names(kind)) or 'none'}") from None

    def names(self, kind: str) -> list[str]:
        return sorted(self._items.get(kind, {}))

    def owner(self, kind: str, name: str) -> str:
        return self._owners.get((kind, name.lower()), "")

    def load(self, spec: str, register: Callable[[Registry], None] | None = None) -> None:
        """Run one ``module:function`` registration (or the given function) under its name."""
        self.loading = spec
        try:
            if register is None:
                module, _, attr = spec.partition(":")
                register = getattr(importlib.import_module(module), attr or "register")
            register(self)
        except PluginError:
            raise
        except Exception as exc:  # a broken third-party plug-in must name itself
            raise PluginError(f"plug-in {spec} failed to load: {type(exc).__name__}: {exc}") from exc
        finally:
            self.loading = "(direct)"


_lock = threading.Lock()
_default: Registry | None = None


def default_registry() -> Registry:
    """The built-ins plus every installed plug-in, loaded once on first use (never at import)."""
    global _default
    with _lock:
        if _default is None:
            registry = Registry()
            for spec in BUILTINS:
                registry.load(spec)
            for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
                registry.load(f"{ep.name} ({ep.value})", ep.load())
            _default = registry
        return _default
