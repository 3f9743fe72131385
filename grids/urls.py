from django.urls import path

from . import views

urlpatterns = [
    path("", views.region_root, name="region-root"),
    path("<str:code>/", views.RegionDetailView.as_view(), name="region-detail"),
    path("<str:code>/export.<str:kind>", views.region_export, name="region-export"),
]
