"""gunicorn's settings for the web service (`gunicorn -c python:governance.gunicorn_conf …`).

Each worker, once it has loaded the application, loads every URL module and freezes its heap: the
modules, URL patterns, models and catalogues built by then live as long as the worker, and frozen
they are out of the cyclic collector's reach, so its full collections scan only what requests leave
behind. At province scale (bench/pages.py) those collections took 100–160 ms each and made the p95
tail of every province-wide page and list. The young generation is also collected less often
(GC_YOUNG_THRESHOLD allocations instead of CPython's 700), so a request that builds a page of fifty
records does not run the collector dozens of times. Only web workers do this: Celery, commands and
the tests keep CPython's defaults.
"""

GC_YOUNG_THRESHOLD = 20_000


def settle_heap() -> None:
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view module before the freeze
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def post_worker_init(worker) -> None:
    """gunicorn's hook: runs in each worker after it has loaded governance.wsgi."""
    settle_heap()
