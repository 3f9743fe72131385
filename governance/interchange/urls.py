from django.urls import path

from governance.interchange import views

urlpatterns = [
    path("", views.records_page, name="records"),
    path("export/", views.records_export, name="export"),
    path("format/", views.records_format, name="format"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job-progress"),
    path("jobs/<int:pk>/report.json", views.job_report, name="job-report"),
]
