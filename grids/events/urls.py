"""Event pages, mounted at /events/ (namespace "events")."""

from django.urls import path

from grids.events.views import detail, exports, filing, inbox, queues

urlpatterns = [
    path("", filing.index, name="index"),
    path("new/", filing.event_new, name="event-new"),
    path("mine/", filing.mine, name="mine"),
    path("visits/new/", filing.visit_new, name="visit-new"),
    path("queue/", queues.queue, name="queue"),
    path("department/", queues.department_queue, name="department"),
    path("export.csv", exports.export_csv, name="export-csv"),
    path("export.xlsx", exports.export_xlsx, name="export-xlsx"),
    path("notifications/", inbox.notifications, name="notifications"),
    path("<int:pk>/", detail.event_detail, name="detail"),
    path("<int:pk>/act/<str:name>/", detail.event_act, name="act"),
    path("<int:pk>/reveal-phone/", detail.reveal_phone, name="reveal-phone"),
    path("<int:pk>/attachments/<int:attachment_pk>/", detail.attachment_download, name="attachment"),
]
