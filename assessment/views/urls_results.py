"""Result pages (assessment.views.results), mounted at /assessment/ (namespace "assessment")."""

from django.urls import path

from . import results as views

urlpatterns = [
    path("", views.cycle_list, name="cycles"),
    path("<int:pk>/", views.cycle_detail, name="cycle-detail"),
    path("<int:pk>/progress.json", views.cycle_progress, name="cycle-progress"),
    path("<int:pk>/run/", views.cycle_run, name="cycle-run"),
    path("<int:pk>/finalise/", views.cycle_finalise, name="cycle-finalise"),
    path("<int:pk>/check-date/", views.cycle_check_date, name="cycle-check-date"),
    path("<int:pk>/ranking/", views.ranking, name="ranking"),
    path("<int:pk>/units/<str:code>/", views.unit_detail, name="unit"),
    path("<int:pk>/units/<str:code>/trace/<str:indicator>/", views.unit_trace, name="trace"),
]
