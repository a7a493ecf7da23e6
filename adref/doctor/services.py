"""Services: the Prefect API and its work pool, and each configured model provider's key.

A key is checked for presence only, unless ``online``: then one minimal request per provider
(a few tokens, through the same vendor client a run uses) shows the key is accepted. A key's
value never reaches a row, not even in part.
"""

from __future__ import annotations

import os

import httpx

from adref.doctor.check import Check
from adref.errors import AdrefError, ProviderTransient
from adref.prefect_env import read_stack, running_api_url
from adref.providers.chain import chain_names
from adref.providers.registry import get_provider
from adref.providers.remote.keys import KEYS, api_key
from adref.providers.remote.provider import RemoteProvider
from adref.providers.remote.vendor_call import VendorCall
from adref.settings import Settings

_PROBE_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}


def prefect_checks(settings: Settings) -> list[Check]:
    up_url = running_api_url(settings)
    url = os.environ.get("PREFECT_API_URL") or up_url
    if not url:
        starts = (
            "each adref run starts a temporary one"
            if settings.server == "embedded"
            else "the next adref command starts one in the background"
        )
        return [
            Check(
                "prefect api",
                "ok",
                f"no server running: {starts} (`adref up` keeps one, with the UI and the "
                "deployments)",
            )
        ]
    stack = read_stack(settings)
    background = stack is not None and stack.kind == "background"
    if url != up_url:
        origin = "PREFECT_API_URL"
    else:
        origin = "the CLI's background server" if background else "adref up's server"

    try:
        healthy = httpx.get(f"{url.rstrip('/')}/health", timeout=5).status_code == 200
    except httpx.HTTPError as exc:
        healthy, why = False, type(exc).__name__
    else:
        why = "its /health did not answer 200"
    if not healthy:
        return [
            Check(
                "prefect api",
                "error",
                f"{origin} {url} is unreachable: {why}",
                "start that server, or unset PREFECT_API_URL to let adref start its own",
            )
        ]
    pool = _pool_check(settings, url, needed=not (url == up_url and background))
    return [Check("prefect api", "ok", f"{origin} {url}"), pool]


def _pool_check(settings: Settings, url: str, needed: bool = True) -> Check:
    """The work pool; not ``needed`` on the CLI's background server, whose runs run in the
    command's own process."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings

    name = f"work pool {settings.work_pool}"
    try:
        with (
            temporary_settings(updates={PREFECT_API_URL: url}),
            get_client(sync_client=True) as client,
        ):
            pool = client.read_work_pool(settings.work_pool)
    except ObjectNotFound:
        if not needed:
            return Check(name, "ok", "none on the CLI's background server (runs run in-process)")
        return Check(
            name, "warning", "not on this server", "`adref up` or `adref deploy` creates it"
        )
    except Exception as exc:
        return Check(
            name, "error", f"could not be read: {type(exc).__name__}", "see the server's log"
        )
    if pool.concurrency_limit is None:
        return Check(
            name,
            "warning",
            "no limit: every queued video runs at once",
            "set one on the pool's page",
        )
    return Check(name, "ok", f"at most {pool.concurrency_limit} flow runs at once")


def configured_providers(settings: Settings) -> tuple[list[str], Check | None]:
    """The remote providers ADREF_PROVIDER names, then those with a key set."""
    try:
        chain = chain_names(settings.provider)
    except AdrefError as exc:
        return [], Check("ADREF_PROVIDER", "error", exc.one_line(), "name known providers")
    keyed = [name for name, (field, _, _) in KEYS.items() if getattr(settings, field) is not None]
    return list(dict.fromkeys([n for n in chain if n in KEYS] + keyed)), None


def provider_checks(settings: Settings, *, online: bool = False) -> list[Check]:
    names, problem = configured_providers(settings)
    if problem:
        return [problem]
    if not names:
        return [Check("providers", "ok", "local only: no key, no network")]
    return [_provider_check(settings, name, online) for name in names]


def _provider_check(settings: Settings, name: str, online: bool) -> Check:
    label = f"provider {name}"
    try:
        key = api_key(name, settings)
    except AdrefError as exc:
        return Check(label, "error", exc.why or exc.what, exc.hint)
    if not online:
        return Check(label, "ok", "key set (not sent; --online tries it)")
    try:
        answer = _probe(settings, name, key)
    except ProviderTransient as exc:
        return Check(label, "warning", _scrub(exc.one_line(), key), "try again later")
    except AdrefError as exc:
        return Check(label, "error", _scrub(exc.what + ": " + exc.why, key), _scrub(exc.hint, key))
    except Exception as exc:
        return Check(label, "error", f"the request failed: {type(exc).__name__}", "")
    return Check(label, "ok", f"key accepted: {answer}")


def _probe(settings: Settings, name: str, key: str) -> str:
    """One minimal request through the vendor client a run uses: a few tokens, no image."""
    provider = get_provider(name)
    assert isinstance(provider, RemoteProvider)
    first = settings.provider.split(",")[0].strip() == name
    model = (settings.model if first else None) or provider.default_model
    call = VendorCall(
        model=model,
        system="This is a connection check. Answer with the JSON object asked for.",
        user_text='Answer {"ok": true}.',
        images=[],
        schema=_PROBE_SCHEMA,
        schema_name="connection_check",
        max_output_tokens=32,
        timeout_s=min(settings.provider_timeout_s, 30.0),
    )
    answer = provider.make_client(key).send(call)
    return (
        f"{answer.model or model} answered ({answer.tokens_in} tokens in, {answer.tokens_out} out)"
    )


def _scrub(text: str, key: str) -> str:
    return text.replace(key, "***") if key else text
