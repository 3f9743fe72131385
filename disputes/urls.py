"""Case pages, mounted at /cases/ (namespace "disputes")."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.board, name="board"),
    path("workload/", views.workload, name="workload"),
    path("new/", views.case_new, name="new"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/act/<str:name>/", views.case_act, name="act"),
    path("<int:pk>/parties/<int:party_pk>/reveal/", views.reveal_party, name="reveal-party"),
    path("<int:pk>/sessions/<int:session_pk>/file/", views.session_file, name="session-file"),
    path("<int:pk>/agreement.pdf", views.agreement_pdf, name="agreement-pdf"),
    path("<int:pk>/file.pdf", views.case_file_pdf, name="file-pdf"),
]
