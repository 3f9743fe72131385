"""Mounted at /api/v1/dashboard/."""

from django.urls import path

from .views import DashboardView, OutlinesView, OwnDashboardView

urlpatterns = [
    path("", OwnDashboardView.as_view(), name="api-dashboard-own"),
    path("<str:code>/", DashboardView.as_view(), name="api-dashboard"),
    path("<str:code>/outlines/", OutlinesView.as_view(), name="api-dashboard-outlines"),
]
