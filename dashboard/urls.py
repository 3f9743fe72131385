"""Dashboard pages, mounted at /dashboard/ (namespace "dashboard")."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.page, name="index"),
    path("<str:code>/", views.page, name="region"),
    path("<str:code>/export.xlsx", views.export, name="export"),
]
