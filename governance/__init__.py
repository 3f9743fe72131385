"""Project package: settings, URLs, the Celery app and the cross-cutting platform pieces
(users, roles, departments, jurisdiction scoping, audit trail)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
