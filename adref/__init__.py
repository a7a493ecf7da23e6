"""adref: advertising videos into a searchable reference library."""

__version__ = "0.1.0"
