"""/open311/v2/ (namespace "open311"): every resource in JSON or XML, chosen by the suffix."""

from django.urls import re_path

from grids.events.open311 import views

FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, views.discovery, name="discovery"),
    re_path(r"^services" + FORMAT, views.services, name="services"),
    re_path(r"^services/(?P<code>[-\w]+)" + FORMAT, views.service_definition, name="service-definition"),
    re_path(r"^requests" + FORMAT, views.requests, name="requests"),
    re_path(r"^requests/(?P<request_id>[^/]+?)" + FORMAT, views.request_detail, name="request-detail"),
]
