from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from dashboard import views as dashboard_views

from . import views
from .api.views import CachedSchemaView
from .middleware import relax_styles

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("org/", include(("governance.page_urls", "governance"))),
    path("regions/", include(("grids.urls", "grids"))),
    path("events/", include(("grids.events.urls", "events"))),
    path("cases/", include(("disputes.urls", "disputes"))),
    path("assessment/", include(("assessment.urls", "assessment"))),
    path("dashboard/", include(("dashboard.urls", "dashboard"))),
    path("survey/", include(("assessment.public_urls", "survey"))),
    path("report/", include(("grids.events.public_urls", "public"))),
    path("records/", include(("governance.interchange.urls", "interchange"))),
    path("open311/v2/", include(("grids.events.open311.urls", "open311"))),
    path("admin/", admin.site.urls),
    path("api/v1/", include("governance.api.urls")),
    path("api/schema/", CachedSchemaView.as_view(), name="api-schema"),
    path("api/docs/", relax_styles(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("api/redoc/", relax_styles(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
]

handler404 = "governance.views.page_not_found"
handler500 = "governance.views.server_error"
