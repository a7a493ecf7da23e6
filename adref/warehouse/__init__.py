"""All SQL and file layout of the warehouse live here; flows and the viewer call these functions."""
