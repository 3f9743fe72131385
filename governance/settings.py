"""Settings, read from the environment (12-factor).

Nothing configured: SQLite beside manage.py, local-memory cache and Celery in eager
mode, which is what `make demo` and the plain `make test` run use.
Configured (`DATABASE_URL`, `REDIS_URL`): PostgreSQL, Redis cache, Redis broker and
result backend, a real Celery worker and beat. `DJANGO_ENV=production` switches on
the transport-security settings that `manage.py check --deploy` asks for and refuses
to start without an explicit secret key and host list.
"""

import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


PRODUCTION = env("DJANGO_ENV") == "production"
DEBUG = env_bool("DJANGO_DEBUG", default=False) and not PRODUCTION

# Demo / development key: clearly marked, refused in production.
_DEV_SECRET_KEY = "insecure-demo-key-do-not-use-in-production-0123456789abcdef"
SECRET_KEY = env("DJANGO_SECRET_KEY", "" if PRODUCTION else _DEV_SECRET_KEY)
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured("DJANGO_ENV=production requires DJANGO_SECRET_KEY.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ENV=production requires DJANGO_ALLOWED_HOSTS.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "governance",
    "grids",
    "grids.events",
    "disputes",
    "assessment",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "governance.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "governance.middleware.AuditContextMiddleware",
    "governance.middleware.DatabaseBusyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"
ASGI_APPLICATION = "governance.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "governance.context_processors.navigation",
                "grids.events.context_processors.calendar_warning",
                "governance.rules.rules",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several writers (web + eager tasks) on one file: wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Take the write lock when a transaction starts, so two writers queue instead of deadlocking
    # (read-then-write transactions such as idempotent filing).
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # Write-ahead log: a long read (a cycle computing, a ledger streaming) never blocks a writer,
    # and a writer never blocks readers; only two writers queue (the timeout above, then a 503).
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    DATABASES["default"]["TEST"] = {"NAME": env("SQLITE_TEST_NAME", "") or None}
    # Django's SQLite backend with one change: a flush lifts the audit trail's DELETE guard for
    # its own statements (PostgreSQL flushes with TRUNCATE, which the row guard leaves alone).
    DATABASES["default"]["ENGINE"] = "governance.sqlite_backend"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    # Fails open (governance/cache.py): with Redis down, pages and filing keep working.
    CACHES = {
        "default": {
            "BACKEND": "governance.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_ACKS_LATE = True
# A broker that is down must not hold a request for long: publishing gives up after about half a
# second (the caller leaves the work on its row for a sweep, e.g. grids.events.tasks.requeue_webhooks).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# A task is acknowledged when it ends (acks_late); if its worker dies (kill -9, a lost machine),
# Redis gives the message to another worker once it has been unacknowledged this long. Keep it
# longer than the longest task. The restore sweep runs every CELERY_UNACKED_RESTORE_INTERVAL s.
CELERY_VISIBILITY_TIMEOUT = int(env("CELERY_VISIBILITY_TIMEOUT", "3600"))
_RESTORE_INTERVAL = int(env("CELERY_UNACKED_RESTORE_INTERVAL", "10"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": _RESTORE_INTERVAL,
    "unacked_restore_throttle": 1 if _RESTORE_INTERVAL < 10 else 10,
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "sweep-event-deadlines": {"task": "grids.events.tasks.sweep_deadlines", "schedule": timedelta(minutes=1)},
    # Webhook deliveries that could not be queued (broker down) are queued again once it is back.
    "requeue-webhooks": {"task": "grids.events.tasks.requeue_webhooks", "schedule": timedelta(minutes=2)},
    "sweep-case-deadlines": {"task": "disputes.tasks.sweep_case_deadlines", "schedule": timedelta(minutes=10)},
    "recount-grid-workers-after-midnight": {
        "task": "grids.tasks.recount_fulltime_workers",
        "schedule": crontab(hour=0, minute=5),
    },
    # Seals audit entries that no writer's after-commit sealing picked up (see governance/audit.py).
    "seal-audit-chain": {"task": "governance.tasks.seal_audit_chain", "schedule": timedelta(minutes=1)},
    "verify-audit-chain-daily": {
        "task": "governance.tasks.verify_audit_chain",
        "schedule": timedelta(hours=24),
    },
    # Starts each quarter's spot-check, the half-year evaluation and the year-end assessment
    # on the 10th day after their period ends (when every monthly table is due); idempotent.
    "start-due-assessment-cycles": {
        "task": "assessment.tasks.start_due_cycles",
        "schedule": crontab(hour=2, minute=30),
    },
    # The dashboard's monthly counts of events and cases (a province's millions, counted set-based).
    "refresh-dashboard-activity": {"task": "dashboard.tasks.refresh_activity", "schedule": crontab(minute=20)},
    # Score appeals past their answer limit go to the level above the deciding committee (督办).
    "sweep-appeal-deadlines": {"task": "assessment.tasks.sweep_appeal_deadlines", "schedule": timedelta(minutes=30)},
    # The data-credibility checks (智能预警) over the previous month, early on the 1st.
    "monthly-credibility-checks": {
        "task": "assessment.tasks.monthly_credibility_checks",
        "schedule": crontab(day_of_month=1, hour=3, minute=0),
    },
}

# --- Content-Security-Policy (governance/middleware.py) ---------------------------------
# Everything a page needs ships with the app, so every source is this origin; no inline script.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# --- Uploads (governance/uploads.py) ---------------------------------------------------
# The largest file accepted anywhere (photos, evidence, session files), in MB.
UPLOAD_MAX_MB = int(env("UPLOAD_MAX_MB", "10"))
# Lists and counters count exactly up to this many rows; beyond it they show an estimate, flagged
# (`count_exact: false` in the API, "约"/"超过" on pages): governance/counting.py.
LIST_EXACT_COUNT_LIMIT = int(env("LIST_EXACT_COUNT_LIMIT", "10000"))

# --- Assessment (SPEC §5) ---------------------------------------------------------
# Day of the following month by which a township's monthly core table is due.
ASSESSMENT_REPORT_DUE_DAY = int(env("ASSESSMENT_REPORT_DUE_DAY", "5"))
# Levels assessed (2 city, 3 county, 4 township) and the days after a period's end on which
# the beat starts its cycle.
ASSESSMENT_LEVELS = [int(x) for x in env("ASSESSMENT_LEVELS", "2,3,4").split(",")]
ASSESSMENT_START_DAYS_AFTER_PERIOD = 10
# A TrueType CJK font embedded (as a subset) in every PDF; see governance/pdf_fonts.py.
PDF_CJK_FONT = env("PDF_CJK_FONT", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
# Public address of the survey pages when residents reach them on another host (QR codes encode it).
SURVEY_PUBLIC_BASE_URL = env("SURVEY_PUBLIC_BASE_URL", "")

# --- Authentication and login security (等保三级 practice) ----------------------
AUTH_USER_MODEL = "governance.User"
AUTHENTICATION_BACKENDS = ["governance.auth.LockoutModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "governance.auth.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]
# Behind a reverse proxy (docker-compose), the client address is the first X-Forwarded-For
# entry; never trust that header when clients reach the app directly.
TRUST_X_FORWARDED_FOR = env_bool("DJANGO_TRUST_X_FORWARDED_FOR", default=False)
# Login attempts per address and minute, the login page and the API token endpoint together
# (governance.ratelimit.login_rate_exceeded); the per-account lockout is separate.
LOGIN_RATE_PER_MINUTE = int(env("DJANGO_LOGIN_RATE_PER_MINUTE", "20"))
LOGIN_MAX_FAILURES = 5
LOGIN_LOCKOUT = timedelta(minutes=30)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: every request pushes expiry 30 minutes ahead.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files (all vendored: offline intranet) ------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    # Outside production static files come from the finders; STATIC_ROOT exists only after
    # collectstatic, and WhiteNoise's warning about its absence is noise there.
    warnings.filterwarnings("ignore", message="No directory at: ")

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.auth.LockAwareTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "governance.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "governance.api.errors.exception_handler",
    "NUM_PROXIES": 1 if TRUST_X_FORWARDED_FOR else 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "网格化综治平台 API",
    "DESCRIPTION": "Grid-based comprehensive social governance platform. All lists are limited "
    "to the caller's jurisdiction; objects outside it answer 404.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "governance.api.schema.document_errors",
    ],
    # Several models have fields called status / kind with different choice sets: name them.
    "ENUM_NAME_OVERRIDES": {
        "EventStatusEnum": "grids.events.choices.EventStatus",
        "CaseStatusEnum": "disputes.choices.CaseStatus",
        "DepartmentKindEnum": "governance.choices.DepartmentKind",
        "MediationOrgKindEnum": "disputes.choices.OrgKind",
        "PartyKindEnum": "disputes.choices.PartyKind",
        # event feedback and party satisfaction share one scale (满意 / 基本满意 / 不满意)
        "SatisfactionEnum": "grids.events.choices.Feedback",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "WARNING")},
}

# --- Personal data (see governance/personal_data.py) -----------------------------
# Fernet keys, newest first; the fallback pair is a clearly marked demo/test key, refused in production.
_DEMO_PERSONAL_DATA_KEY = "ZGVtby1vbmx5LXBlcnNvbmFsLWRhdGEta2V5LTAwMDE="
PERSONAL_DATA_KEYS = env_list("PERSONAL_DATA_KEYS", "" if PRODUCTION else _DEMO_PERSONAL_DATA_KEY)
PERSONAL_DATA_INDEX_KEY = env("PERSONAL_DATA_INDEX_KEY", "" if PRODUCTION else "demo-only-personal-data-index-key")
if PRODUCTION and (
    not PERSONAL_DATA_KEYS or _DEMO_PERSONAL_DATA_KEY in PERSONAL_DATA_KEYS or not PERSONAL_DATA_INDEX_KEY
):
    raise ImproperlyConfigured("DJANGO_ENV=production requires PERSONAL_DATA_KEYS and PERSONAL_DATA_INDEX_KEY.")

# Pseudo-name for actions done by the platform itself (Celery tasks, commands).
AUDIT_SYSTEM_ACTOR = "system"

# --- Audit chain (see governance/audit.py) -----------------------------------------
# HMAC keys that seal the audit chain, newest first, as `id:secret` pairs. The newest seals new
# entries; older ones stay listed so that entries they sealed still verify (rotation). The fallback
# is a clearly marked demo/test key, refused in production.
_DEMO_AUDIT_CHAIN_KEY = "demo:demo-only-audit-chain-key-0001"
AUDIT_CHAIN_KEYS = env_list("AUDIT_CHAIN_KEYS", "" if PRODUCTION else _DEMO_AUDIT_CHAIN_KEY)
if PRODUCTION and (not AUDIT_CHAIN_KEYS or _DEMO_AUDIT_CHAIN_KEY in AUDIT_CHAIN_KEYS):
    raise ImproperlyConfigured("DJANGO_ENV=production requires AUDIT_CHAIN_KEYS.")
# Where the sealer writes the chain's head (position + hash, signed) outside the database, so that
# cutting the newest entries is detected. Put it on storage the database's users cannot write.
AUDIT_CHECKPOINT_PATH = Path(env("AUDIT_CHECKPOINT_PATH", str(BASE_DIR / "var" / "audit-checkpoint.json")))
# Web servers (docker-compose sets it): a sealer thread per process seals the chain a moment after each
# commit, so no request waits for it. Off, the committing thread seals (commands, workers, tests).
AUDIT_SEAL_IN_BACKGROUND = env_bool("AUDIT_SEAL_IN_BACKGROUND", default=False)
