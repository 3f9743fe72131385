"""The public survey page (no login), mounted at /survey/ (namespace "survey")."""

from .views.urls_inputs import public_urlpatterns as urlpatterns  # noqa: F401
