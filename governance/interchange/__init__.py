"""Historical import and export of records (issue #6): one JSON Lines format, see docs/import-format.md."""
