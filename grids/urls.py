from django.urls import path

from grids import views

urlpatterns = [
    path("", views.region_root, name="region-root"),
    path("import/", views.region_import, name="region-import"),
    path("<str:code>/", views.RegionDetailView.as_view(), name="region-detail"),
    path("<str:code>/export.<str:kind>", views.region_export, name="region-export"),
]
