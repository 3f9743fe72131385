"""The benchmarks' own PostgreSQL databases: checked names, dropped and re-created with the client tools."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlparse

PROTECTED_DATABASES = {"governance", "test", "postgres", "template0", "template1"}


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def check_url(url: str) -> None:
    parsed = urlparse(url)
    name = database_name(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("--database-url must be a PostgreSQL URL.")
    if not name or name in PROTECTED_DATABASES or name.startswith("test_"):
        sys.exit(f"Refusing to drop and re-create the database {name!r}: use a dedicated benchmark database.")


def _pg_args(url: str) -> list[str]:
    parsed = urlparse(url)
    return ["-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]


def recreate_database(url: str) -> None:
    name = database_name(url)
    subprocess.run(["dropdb", "--if-exists", "--force", *_pg_args(url), name], check=True)
    subprocess.run(["createdb", *_pg_args(url), name], check=True)


def drop_database(url: str) -> None:
    subprocess.run(["dropdb", "--if-exists", "--force", *_pg_args(url), database_name(url)], check=True)


def write_doc_section(path, pattern, section: str) -> None:
    """Put `section` in the place of the text `pattern` matches in the file at `path` (or at its end)."""
    text = path.read_text(encoding="utf-8")
    existing = pattern.search(text)
    if existing:
        text = text[: existing.start()] + section.rstrip() + "\n\n" + text[existing.end() :].lstrip("\n")
        text = text.rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")
