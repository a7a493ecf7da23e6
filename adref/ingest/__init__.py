"""Batch ingestion: a watch list, expanded into videos, less the ones already known or queued.

Plain functions over plain data; the ``ingest`` flow and ``adref ingest`` are the Prefect and
shell doors over them.
"""
