"""Event pages, mounted at /events/ (namespace "events")."""

from django.urls import path

from grids.events import views as views

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.event_new, name="event-new"),
    path("mine/", views.mine, name="mine"),
    path("visits/new/", views.visit_new, name="visit-new"),
    path("queue/", views.queue, name="queue"),
    path("department/", views.department_queue, name="department"),
    path("export.csv", views.export_csv, name="export-csv"),
    path("export.xlsx", views.export_xlsx, name="export-xlsx"),
    path("notifications/", views.notifications, name="notifications"),
    path("<int:pk>/", views.event_detail, name="detail"),
    path("<int:pk>/act/<str:name>/", views.event_act, name="act"),
    path("<int:pk>/reveal-phone/", views.reveal_phone, name="reveal-phone"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment"),
]
