"""The Panel viewer: one module per page, a state class per page, a page built per session."""
