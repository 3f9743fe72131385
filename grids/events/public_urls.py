"""The public report page (随手拍), mounted at /report/ (namespace "public"); no login."""

from django.urls import path

from grids.events import public_views as views

urlpatterns = [
    path("", views.report, name="report"),
    path("thanks/", views.thanks, name="thanks"),
    path("status/", views.status, name="status"),
    path("regions/<str:code>/children.json", views.region_children, name="region-children"),
]
