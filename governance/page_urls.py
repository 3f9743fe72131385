from django.urls import path

from . import views

urlpatterns = [
    path("departments/", views.DepartmentListView.as_view(), name="department-list"),
    path("audit/", views.AuditLogListView.as_view(), name="audit-list"),
]
