"""Analysers: one interface (base), a registry, and one module per provider."""
