"""Pages after the scores (assessment.views.after_scores), mounted at /assessment/."""

from django.urls import path

from . import after_scores as views

urlpatterns = [
    path("<int:pk>/publish/", views.cycle_publish, name="cycle-publish"),
    path("<int:pk>/reports/", views.bundle_start, name="bundle-start"),
    path("<int:pk>/reports/progress.json", views.bundle_progress, name="bundle-progress"),
    path("<int:pk>/reports.zip", views.bundle_download, name="bundle-download"),
    path("<int:pk>/units/<str:code>/report.pdf", views.unit_report, name="unit-report"),
    path("<int:pk>/units/<str:code>/notice.pdf", views.unit_notice, name="unit-notice"),
    path("<int:pk>/units/<str:code>/appeal/<str:indicator>/", views.appeal_new, name="appeal-new"),
    path("appeals/", views.appeal_list, name="appeal-list"),
    path("appeals/<int:pk>/", views.appeal_detail, name="appeal-detail"),
    path("appeals/<int:pk>/evidence/", views.appeal_evidence, name="appeal-evidence"),
    path("flags/<int:pk>/", views.flag_detail, name="flag-detail"),
]
