"""Where a vendor's key comes from: the environment (through settings) or a Prefect Secret block.

The key is only ever handed to the SDK client. Errors name the variables and the block to set,
never a value.
"""

from __future__ import annotations

from pydantic import SecretStr

from adref.errors import ProviderHardError
from adref.prefect_env import secret_block
from adref.settings import Settings

# provider → (settings field, Secret block name, environment variables a user may set)
KEYS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "openai": (
        "openai_api_key",
        "adref-openai-api-key",
        ("OPENAI_API_KEY", "ADREF_OPENAI_API_KEY"),
    ),
    "factchat": (
        "factchat_api_key",
        "adref-factchat-api-key",
        ("FACTCHAT_API_KEY", "ADREF_FACTCHAT_API_KEY"),
    ),
    "anthropic": (
        "anthropic_api_key",
        "adref-anthropic-api-key",
        ("ANTHROPIC_API_KEY", "ADREF_ANTHROPIC_API_KEY"),
    ),
    "gemini": (
        "gemini_api_key",
        "adref-gemini-api-key",
        ("GEMINI_API_KEY", "GOOGLE_API_KEY", "ADREF_GEMINI_API_KEY"),
    ),
}


def api_key(provider: str, settings: Settings) -> str:
    field, block, names = KEYS[provider]
    value: SecretStr | None = getattr(settings, field)
    if value is not None and value.get_secret_value().strip():
        return value.get_secret_value().strip()
    secret = secret_block(block)
    if secret:
        return secret
    raise ProviderHardError(
        f"no API key for {provider}",
        f"none of {', '.join(names)} is set and there is no Prefect Secret block {block!r}",
        f"set {names[0]} or create the Secret block {block!r} in the Prefect UI",
        provider=provider,
    )
