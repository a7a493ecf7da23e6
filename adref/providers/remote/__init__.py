"""Model providers behind a vendor's API; one module per vendor, the shared machinery beside them.

- ``openai``, ``anthropic``, ``gemini``: each vendor in one place, its SDK client (a
  ``VendorCall`` in, a ``VendorAnswer`` out) and its provider class(es) (``openai`` also holds
  FactChat, an OpenAI-compatible gateway).
- ``provider``: ``RemoteProvider``, the one call loop every vendor shares (plan, spend-check,
  call, retry, repair or re-ask once).
- ``vendor_call``: the types that cross the line between that loop and a vendor's SDK.
- ``prompt`` (+ ``prompts/``), ``answer``, ``images``: what is asked, how the answer is checked,
  which keyframes are sent and how they are sized.
- ``cost_estimates`` (tokens and dollars of a call, before it is made), ``concurrency`` (one
  Prefect concurrency limit per provider), ``keys`` (where API keys come from),
  ``retry_after`` (reading a vendor's Retry-After).

This package's ``__init__`` imports nothing, so naming one vendor never imports another's SDK.
"""
