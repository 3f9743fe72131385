"""/api/v1/: one router for every app's API."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from assessment.api import register as register_assessment
from disputes.api.views import CaseViewSet, MediationOrganisationViewSet
from grids.api.views import GridWorkerViewSet, RegionViewSet
from grids.events.api.views import EventViewSet, VisitRecordViewSet
from grids.events.api.webhooks import WebhookViewSet

from .views import AuditLogViewSet, DepartmentViewSet, TokenView, UserViewSet

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("grid-workers", GridWorkerViewSet, basename="gridworker")
router.register("departments", DepartmentViewSet, basename="department")
router.register("users", UserViewSet, basename="user")
router.register("audit-log", AuditLogViewSet, basename="auditlog")
router.register("events", EventViewSet, basename="event")
router.register("visits", VisitRecordViewSet, basename="visit")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("disputes/organisations", MediationOrganisationViewSet, basename="mediation-organisation")
router.register("disputes/cases", CaseViewSet, basename="mediation-case")
register_assessment(router)

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("dashboard/", include("dashboard.api.urls")),
    *router.urls,
]
