"""Name → provider. Built-ins register here the same way a third-party provider would."""

from __future__ import annotations

from collections.abc import Callable

from adref.errors import InputError
from adref.providers.base import Provider

_FACTORIES: dict[str, Callable[[], Provider]] = {}


def register(name: str, factory: Callable[[], Provider]) -> None:
    _FACTORIES[name] = factory


def available() -> list[str]:
    _load_builtins()
    return sorted(_FACTORIES)


def get_provider(name: str) -> Provider:
    _load_builtins()
    try:
        return _FACTORIES[name]()
    except KeyError:
        raise InputError(
            f"unknown provider {name!r}",
            f"available: {', '.join(available())}",
            "pass --provider with one of those names",
        ) from None


def _load_builtins() -> None:
    if "local" not in _FACTORIES:
        from adref.providers.local import LocalProvider
        from adref.providers.remote import (
            AnthropicProvider,
            FactChatProvider,
            GeminiProvider,
            OpenAIProvider,
        )

        register("local", LocalProvider)
        register("openai", OpenAIProvider)
        register("factchat", FactChatProvider)
        register("anthropic", AnthropicProvider)
        register("gemini", GeminiProvider)
