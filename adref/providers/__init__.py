"""Analysers: one interface, found by name through entry points, chained with fallbacks.

- ``base``: the interface every provider implements (``Provider``, ``AnalysisRequest`` in,
  ``ProviderResult`` out); a third-party provider subclasses it too.
- ``registry``: name → provider, through the ``adref.providers`` entry-point group that adref's
  own providers use as well (see its docstring to add one).
- ``chain``: ``--provider a,b,local``, moving on after a hard failure or a spending cap;
  ``spending_caps``: the run's and the day's cap.
- ``local/``: the local analyser (computer vision, no key, no network).
- ``remote/``: providers behind a vendor's API, one module per vendor, and what they share.
"""
