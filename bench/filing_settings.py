"""Settings of bench/filing.py's server: the platform's own, plus a bare JSON view (bench/filing_urls.py)
served by the same gunicorn, so the filing's figures stand beside the stack's ceiling. Bench only."""

from governance.settings import *  # noqa: F403

ROOT_URLCONF = "bench.filing_urls"
