"""WSGI entry point (gunicorn governance.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

# Allocations between two young-generation collections. CPython's 700 makes a request that builds
# a page of fifty records run the collector dozens of times, each pass promoting survivors that
# a later full collection must scan again.
GC_YOUNG_THRESHOLD = 20_000

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
application = get_wsgi_application()

# The modules, URL patterns, models and catalogues loaded here live as long as the worker. Loading
# every URL module now and then freezing the heap takes them out of the cyclic collector's reach, so
# its full collections scan only what requests leave behind: at province scale (bench/pages.py) those
# collections took 100-160 ms each and made the p95 tail of every province-wide page and list.
get_resolver().url_patterns  # noqa: B018 - imports every view module before the freeze
gc.freeze()
gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
