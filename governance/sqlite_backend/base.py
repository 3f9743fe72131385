"""Django's SQLite backend, except that a flush (tests, `manage.py flush`) lifts the audit
trail's DELETE guard for its own statements: SQLite empties tables with DELETE where
PostgreSQL uses TRUNCATE, which row triggers do not see. Nothing else may delete entries."""

from django.db.backends.sqlite3 import base, operations

from governance import audit_guard


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if audit_guard.TABLE not in tables:
            return statements
        return [audit_guard.SQLITE_REMOVE_DELETE_GUARD, *statements, audit_guard.SQLITE_NO_DELETE]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
