"""The platform's URLs and one bare Django JSON view, the ceiling bench/filing.py measures beside filing."""

from django.http import JsonResponse
from django.urls import path

from governance.urls import handler404, handler500  # noqa: F401
from governance.urls import urlpatterns as platform_urls


def bare(request):
    """What any Django view costs on this server: the middleware, a URL match, a small JSON body."""
    return JsonResponse({"ok": True, "path": request.path})


urlpatterns = [path("bench/bare/", bare), *platform_urls]
