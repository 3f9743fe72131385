"""The database's own guard on the audit trail: no DELETE, and no UPDATE except the sealer's
one-time write of an entry's chain position and hash (every other column unchanged).

Installed by migration governance.0007 and lifted only by a flush on SQLite (see
governance/sqlite_backend), so that the guard is stated once for both backends.
"""

TABLE = "governance_auditlog"

# Columns an entry is written with; the sealer may not touch any of them.
CONTENT_COLUMNS = (
    "seq",
    "at",
    "actor_id",
    "actor_name",
    "ip",
    "action",
    "model",
    "object_id",
    "object_repr",
    "region_code",
    "changes",
)


def _sealing_only(old: str, new: str, same: str) -> str:
    unchanged = " AND ".join(f"{new}.{c} {same} {old}.{c}" for c in CONTENT_COLUMNS)
    return f"{old}.hash = '' AND {new}.hash <> '' AND {unchanged}"


PG_INSTALL = f"""
CREATE OR REPLACE FUNCTION governance_auditlog_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {_sealing_only("OLD", "NEW", "IS NOT DISTINCT FROM")} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'governance_auditlog is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER governance_auditlog_no_change
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION governance_auditlog_guard();
"""
PG_REMOVE = f"""
DROP TRIGGER IF EXISTS governance_auditlog_no_change ON {TABLE};
DROP FUNCTION IF EXISTS governance_auditlog_guard();
"""

SQLITE_NO_DELETE = (
    f"CREATE TRIGGER governance_auditlog_no_delete BEFORE DELETE ON {TABLE} "
    "BEGIN SELECT RAISE(ABORT, 'governance_auditlog is append-only'); END"
)
SQLITE_INSTALL = [
    f"CREATE TRIGGER governance_auditlog_no_update BEFORE UPDATE ON {TABLE} "
    f"WHEN NOT ({_sealing_only('OLD', 'NEW', 'IS')}) "
    "BEGIN SELECT RAISE(ABORT, 'governance_auditlog is append-only'); END",
    SQLITE_NO_DELETE,
]
SQLITE_REMOVE_DELETE_GUARD = "DROP TRIGGER IF EXISTS governance_auditlog_no_delete"
SQLITE_REMOVE = ["DROP TRIGGER IF EXISTS governance_auditlog_no_update", SQLITE_REMOVE_DELETE_GUARD]


def install(schema_editor) -> None:
    _execute(schema_editor, {"postgresql": [PG_INSTALL], "sqlite": SQLITE_INSTALL})


def remove(schema_editor) -> None:
    _execute(schema_editor, {"postgresql": [PG_REMOVE], "sqlite": SQLITE_REMOVE})


def _execute(schema_editor, statements: dict[str, list[str]]) -> None:
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)
