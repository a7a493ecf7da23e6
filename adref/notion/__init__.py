"""Publishing to Notion: analyses and moodboards as pages of a Notion database, idempotently.

``client`` (the SDK, paced and retried), ``shape`` (what Notion accepts), ``config`` (token and
database), ``setup`` (the database's properties), ``pages`` (what a page says), ``push`` (create
or update a page, its id kept in the warehouse).
"""
