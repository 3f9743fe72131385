"""Writes of the dashboard: only the monthly activity counts it reads (`activity`)."""

from .activity import refresh_activity

__all__ = ["refresh_activity"]
