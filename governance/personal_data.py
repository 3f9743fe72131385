"""Personal data at rest: encryption with key rotation, exact-match search, masking.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the keys in
PERSONAL_DATA_KEYS (comma-separated, newest first): new values use the first key, older
values stay readable while their key is listed, and `rotate()` re-encrypts them. A keyed
HMAC-SHA256 "blind index" (PERSONAL_DATA_INDEX_KEY) lets a column be searched by exact
value without decrypting anything. Pages and the API show masked values; an unmasked read
goes through `reveal()`, which writes an audit entry.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _keys() -> tuple[str, ...]:
    return tuple(settings.PERSONAL_DATA_KEYS)


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet(_keys()).encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(_keys()).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError("personal data cannot be decrypted with the configured keys") from exc


def rotate(token: str) -> str:
    """Re-encrypt under the newest key (for the key-rotation procedure)."""
    return _fernet(_keys()).rotate(token.encode("ascii")).decode("ascii") if token else ""


def blind_index(value: str) -> str:
    """Keyed hash for exact-match search; normalised so '138 0000 0000' finds '13800000000'."""
    if not value:
        return ""
    normalised = "".join(value.split()).upper()
    key = settings.PERSONAL_DATA_INDEX_KEY.encode("utf-8")
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def mask_phone(value: str) -> str:
    """138****1234"""
    if not value:
        return ""
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else "*" * len(value)


def reveal(*, instance, field: str, value: str, user, reason: str = "") -> str:
    """Return a decrypted value and record the unmasked read in the audit trail."""
    from . import audit
    from .choices import AuditAction

    plain = decrypt(value)
    audit.record(AuditAction.READ_UNMASKED, instance=instance, changes={"field": field, "reason": reason})
    return plain


# Every encrypted column, for the key-rotation command: (app_label.Model, field).
ENCRYPTED_FIELDS: list[tuple[str, str]] = [
    ("grids.GridEvent", "contact_phone"),
    ("disputes.Party", "id_number"),
    ("disputes.Party", "phone"),
]


def rotate_all(batch_size: int = 1000) -> int:
    """Re-encrypt every stored value under the newest key; returns the number of values rewritten."""
    from django.apps import apps
    from django.db import transaction

    rewritten = 0
    for label, field in ENCRYPTED_FIELDS:
        model = apps.get_model(label)
        last_pk = 0
        while True:
            rows = list(
                model._default_manager.filter(pk__gt=last_pk)
                .exclude(**{field: ""})
                .order_by("pk")
                .values_list("pk", field)[:batch_size]
            )
            if not rows:
                break
            with transaction.atomic():
                for pk, token in rows:
                    model._default_manager.filter(pk=pk).update(**{field: rotate(token)})
            rewritten += len(rows)
            last_pk = rows[-1][0]
    return rewritten
