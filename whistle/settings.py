"""Settings for Whistle, read from environment variables with safe defaults.

The embedded default (no variables set) runs on SQLite under var/ and a Celery broker on
Kombu's filesystem transport, so `make run` needs no server. DATABASE_URL and REDIS_URL
switch to PostgreSQL and Redis; nothing else changes.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


VAR_DIR = Path(os.environ.get("WHISTLE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _development_secret_key() -> str:
    """A key generated once and kept under var/, so sessions survive restarts in development."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or _development_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # API tokens, kept hashed (teams.tokens)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "import_export",  # the users' contacts from a county's file (teams.contacts)
    "core",
    "audit",
    "teams",
    "checklists",
    "cases",
    "consultation",
    "assessment",
    "spotchecks",
    "rollout",
    "policylab",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After a signed-in user's write, their heavy reads wait for the replica to have it.
    "core.replica.RecordWritesMiddleware",
    # The access audit: every 403, export and drill-down list into the trail (whistle.audit).
    "whistle.audit.AccessAuditMiddleware",
    # request.user.is_verified(): the session's second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A session that owes its second factor reaches only the code and enrolment pages.
    "teams.two_factor.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whistle.security.SecurityHeadersMiddleware",
    # A view that finds the database down (restarting) answers 503 "try again", not 500.
    "whistle.faults.DatabaseUnavailableMiddleware",
    # Idle and absolute session limits (teams.sessions); after the above, since it reads the
    # session and the user from the database.
    "teams.sessions.SessionLimitsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "whistle.urls"
WSGI_APPLICATION = "whistle.wsgi.application"
ASGI_APPLICATION = "whistle.asgi.application"

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
                "teams.context_processors.levels",
                "core.replica.freshness",
            ],
        },
    },
]

# Database: SQLite under var/ in WAL mode by default; DATABASE_URL for PostgreSQL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'whistle.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        # A connection the database dropped (a restart) is replaced at the next request.
        conn_health_checks=True,
    )
}
# A replay's helper processes (policylab.helpers) work on the very database of the task that
# started them (the test database, in tests): it names it for them.
if os.environ.get("WHISTLE_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["WHISTLE_DATABASE_NAME"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE makes every transaction take the write lock at BEGIN, so concurrent
        # writers queue on busy_timeout instead of failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test.sqlite3")
elif "postgresql" in DATABASES["default"]["ENGINE"]:
    # PostgreSQL's JIT compiles a query whose estimated cost is high (the counts of a large
    # city's overview, a busy board); for a web request's short queries compiling costs more
    # than it saves. WHISTLE_PG_JIT=on turns it back on.
    _jit = "on" if os.environ.get("WHISTLE_PG_JIT", "off") == "on" else "off"
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit={_jit}".strip()

# A PostgreSQL streaming replica for heavy reads (core/replica.py): dashboards, exports,
# rankings, drill-down lists and the policy lab read there while it is within
# WHISTLE_REPLICA_MAX_LAG_SECONDS of the primary and has replayed the reader's own last write;
# otherwise they read the primary. It is probed at most every WHISTLE_REPLICA_CHECK_SECONDS.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True,
    )
    _replica_options = DATABASES["replica"].setdefault("OPTIONS", {})
    _replica_options.setdefault("connect_timeout", 2)
    _replica_options["options"] = DATABASES["default"].get("OPTIONS", {}).get("options", "")
    # Tests read the replica through a second connection to the test database.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]
WHISTLE_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("WHISTLE_REPLICA_MAX_LAG_SECONDS", "30"))
WHISTLE_REPLICA_CHECK_SECONDS = float(os.environ.get("WHISTLE_REPLICA_CHECK_SECONDS", "1"))
# The bearer token the monitoring system sends to /metrics (whistle.health); empty: /metrics is 404.
WHISTLE_METRICS_TOKEN = os.environ.get("WHISTLE_METRICS_TOKEN", "")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "teams.User"

AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in, right or wrong, of a locked-out username and address.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login lockout (django-axes, teams.lockout): failed sign-ins within AXES_COOLOFF_MINUTES
# (15) lock for that long, counted in the database so every web process sees them, by three
# limits: 5 of one username from one address (AXES_FAILURE_LIMIT) lock that pair; 20 from one
# address across usernames (password spraying, WHISTLE_LOCKOUT_ADDRESS_LIMIT) lock the address;
# 10 of one username across addresses (WHISTLE_LOCKOUT_USERNAME_LIMIT) lock the username. A
# success clears that username's failures from that address. API tokens do not sign in.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
WHISTLE_LOCKOUT_ADDRESS_LIMIT = int(os.environ.get("WHISTLE_LOCKOUT_ADDRESS_LIMIT", "20"))
WHISTLE_LOCKOUT_USERNAME_LIMIT = int(os.environ.get("WHISTLE_LOCKOUT_USERNAME_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "teams.lockout.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "teams.views_lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "whistle.security.client_ip"
AXES_VERBOSE = False

# Two-factor sign-in (teams.two_factor, django-otp): committee staff, supervisors and
# administrators must give a TOTP code (or a recovery code) after their password, others may
# choose to. Only tests turn it off (tests/conftest.py); `check --deploy` warns when it is off.
WHISTLE_REQUIRE_TWO_FACTOR = env_bool("WHISTLE_REQUIRE_TWO_FACTOR", True)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Whistle")
# Wrong codes: django-otp refuses the device's next try for 1, 2, 4, 8 ... seconds.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Languages: English and Simplified Chinese; the browser's language picks by default.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates in an unambiguous order (2026-12-03, 3 Dec 2026), not Django's US ones.
FORMAT_MODULE_PATH = ["whistle.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env_bool("WHISTLE_MANIFEST_STATIC", True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
# Case photos and documents (cases.uploads): the largest file accepted of each kind, in bytes,
# and the largest image decoded (pixels) and stored (longest side, larger ones are scaled down).
WHISTLE_MAX_PHOTO_BYTES = int(os.environ.get("WHISTLE_MAX_PHOTO_BYTES", str(15 * 1024 * 1024)))
WHISTLE_MAX_DOCUMENT_BYTES = int(
    os.environ.get("WHISTLE_MAX_DOCUMENT_BYTES", str(20 * 1024 * 1024))
)
# The pixel limits are read from the image header before anything is decoded: per photo (a
# 16 MP phone photo passes) and per request (all its photos together), since every pixel
# accepted costs a Celery worker decode time (cases.uploads.process_attachment).
WHISTLE_MAX_IMAGE_PIXELS = int(os.environ.get("WHISTLE_MAX_IMAGE_PIXELS", "16000000"))
WHISTLE_MAX_REQUEST_PIXELS = int(os.environ.get("WHISTLE_MAX_REQUEST_PIXELS", "120000000"))
# The request itself re-encodes small photos, up to this many pixels in all (a few tens of
# milliseconds), so they show at once; the rest wait for a worker.
WHISTLE_INLINE_PHOTO_PIXELS = int(os.environ.get("WHISTLE_INLINE_PHOTO_PIXELS", "1000000"))
WHISTLE_MAX_IMAGE_SIDE = int(os.environ.get("WHISTLE_MAX_IMAGE_SIDE", "2560"))
# Loading a county's organisation from its files (rollout): the largest file taken, in bytes
# (refused before it is read), and the overlap two grids may share, in square metres, before
# the import refuses them (rounding along a shared border is not an overlap).
WHISTLE_IMPORT_MAX_BYTES = int(os.environ.get("WHISTLE_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
WHISTLE_IMPORT_GRID_OVERLAP_M2 = float(os.environ.get("WHISTLE_IMPORT_GRID_OVERLAP_M2", "1"))
# Which demo county `seed_demo` (and so `make run`) builds from docs/examples/: "haining" or
# "longgang" (rollout.demo).
WHISTLE_DEMO_SHAPE = os.environ.get("WHISTLE_DEMO_SHAPE", "haining")

# Redis, when REDIS_URL is set, carries the Celery broker and the shared cache.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Optional: a Redis that is down reads as a cache miss (whistle.cache), never as an error.
    CACHES = {
        "default": {
            "BACKEND": "whistle.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    # WHISTLE_BROKER_DIR moves the message folders (tests give each run its own).
    _broker_dir = Path(os.environ.get("WHISTLE_BROKER_DIR", VAR_DIR / "celery"))
    _queue_dir = _broker_dir / "queue"
    _processed_dir = _broker_dir / "processed"
    # Exchange bindings (fanout for worker remote control); Kombu's default is ./control.
    _control_dir = _broker_dir / "control"
    for _folder in (_queue_dir, _processed_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a request when the broker is down: the database is the source of
# truth and the periodic sweep picks up whatever was not sent.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Any number of beats may run (on one machine or several): the one holding the database lease
# sends the schedule (whistle.beat). A leader that dies is replaced by a standby within
# WHISTLE_BEAT_LEASE_SECONDS plus a second; it renews three times per lease.
CELERY_BEAT_SCHEDULER = "whistle.beat:LeaderScheduler"
WHISTLE_BEAT_LEASE_SECONDS = max(float(os.environ.get("WHISTLE_BEAT_LEASE_SECONDS", "10")), 2.0)
WHISTLE_SWEEP_SECONDS = float(os.environ.get("WHISTLE_SWEEP_SECONDS", "5"))
# The worker recounts the stored overview counts of every city and town this often; a page
# serves stored counts whose facts changed since for at most WHISTLE_COUNTS_STALE_SECONDS (0:
# never), then counts itself.
WHISTLE_COUNTS_KEEP_SECONDS = max(float(os.environ.get("WHISTLE_COUNTS_KEEP_SECONDS", "30")), 5.0)
WHISTLE_COUNTS_STALE_SECONDS = float(os.environ.get("WHISTLE_COUNTS_STALE_SECONDS", "120"))
# Each process keeps the checklist, regions and grids it read; it checks every
# WHISTLE_REFERENCE_CHECK_SECONDS whether they were edited elsewhere, and drops its copy after
# WHISTLE_REFERENCE_MAX_AGE_SECONDS whatever the check says (core.reference).
WHISTLE_REFERENCE_CHECK_SECONDS = float(os.environ.get("WHISTLE_REFERENCE_CHECK_SECONDS", "1"))
WHISTLE_REFERENCE_MAX_AGE_SECONDS = float(os.environ.get("WHISTLE_REFERENCE_MAX_AGE_SECONDS", "30"))
# The same for the working calendar (cases.calendar): compared every
# WHISTLE_CALENDAR_CHECK_SECONDS, reloaded after WHISTLE_CALENDAR_MAX_AGE_SECONDS at the latest.
WHISTLE_CALENDAR_CHECK_SECONDS = float(os.environ.get("WHISTLE_CALENDAR_CHECK_SECONDS", "1"))
WHISTLE_CALENDAR_MAX_AGE_SECONDS = float(os.environ.get("WHISTLE_CALENDAR_MAX_AGE_SECONDS", "60"))
# Processes one replay of the policy lab uses (policylab.helpers): the task's own and helpers
# it starts, each on its own span of the cases (PostgreSQL only; the embedded SQLite replays in
# one). Default: one per CPU of the worker's machine, at most 4.
WHISTLE_REPLAY_PROCESSES = max(
    1, int(os.environ.get("WHISTLE_REPLAY_PROCESSES", str(min(os.cpu_count() or 1, 4))))
)
# Several Whistle installations (or test runs) can share one Redis under their own queue names.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("WHISTLE_CELERY_QUEUE", "celery")
# Notification deliveries (cases.channels) travel on their own queue, which the Procfile's
# `deliveries` worker consumes: a burst of slow SMS never waits in front of the timer sweep.
WHISTLE_DELIVERY_QUEUE = (
    os.environ.get("WHISTLE_DELIVERY_QUEUE") or f"{CELERY_TASK_DEFAULT_QUEUE}-deliveries"
)
CELERY_TASK_ROUTES = {
    f"cases.tasks.{name}": {"queue": WHISTLE_DELIVERY_QUEUE}
    for name in (
        "send_deliveries",
        "send_due_deliveries",
        "sweep_deliveries",
        "deliver_pending_mail",
        "deliver_notifications",
    )
}
# The delivery sweep runs this often; one channel's task sends for at most this long.
WHISTLE_DELIVERY_SWEEP_SECONDS = max(
    float(os.environ.get("WHISTLE_DELIVERY_SWEEP_SECONDS", "30")), 5.0
)
# The deadline sweep runs every WHISTLE_SWEEP_SECONDS, never less often than every 30 s. A
# sweep that waited longer than its period is dropped: the next one does the same work.
_sweep_every = min(max(WHISTLE_SWEEP_SECONDS, 1.0), 30.0)
CELERY_BEAT_SCHEDULE = {
    "sweep-deadlines": {
        "task": "cases.tasks.sweep_deadlines",
        "schedule": _sweep_every,
        "options": {"expires": _sweep_every},
    },
    # Deliveries due on each channel (retries, quiet-hour steps, what was never queued).
    "sweep-deliveries": {
        "task": "cases.tasks.sweep_deliveries",
        "schedule": WHISTLE_DELIVERY_SWEEP_SECONDS,
        "options": {"expires": WHISTLE_DELIVERY_SWEEP_SECONDS},
    },
    # The overview's counts of every city and town, stored so that the page need not count.
    "keep-overview-counts": {
        "task": "assessment.tasks.keep_overview_counts",
        "schedule": WHISTLE_COUNTS_KEEP_SECONDS,
        "options": {"expires": WHISTLE_COUNTS_KEEP_SECONDS},
    },
    # The access audit's retention: records older than WHISTLE_AUDIT_RETENTION_DAYS go.
    "purge-access-records": {
        "task": "audit.tasks.purge_access_records",
        "schedule": 86400.0,
        "options": {"expires": 3600.0},
    },
    # Assessment facts missed by the after-commit refresh (broker down, timer events).
    "refresh-stale-facts": {
        "task": "assessment.tasks.refresh_stale_facts",
        "schedule": 120.0,
        "options": {"expires": 120.0},
    },
    # The same over the whole history (cases without facts, changed without an event), daily.
    "refresh-stale-facts-history": {
        "task": "assessment.tasks.refresh_stale_facts",
        "schedule": 86400.0,
        "kwargs": {"whole_history": True},
        "options": {"expires": 3600.0},
    },
    # Policy-lab replays whose worker died mid-run or whose message was lost.
    "resume-stalled-replays": {
        "task": "policylab.tasks.resume_stalled_replays",
        "schedule": 300.0,
        "options": {"expires": 300.0},
    },
    # Organisation import runs whose message was lost or whose worker died (rollout.runs).
    "resume-stalled-imports": {
        "task": "rollout.tasks.resume_stalled_imports",
        "schedule": 300.0,
        "options": {"expires": 300.0},
    },
    # Photos whose after-commit processing was never queued (broker down) or was lost.
    "process-waiting-photos": {
        "task": "cases.tasks.process_waiting_photos",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # Stored case files without a row (a request killed mid-way); only files past the grace
    # age (cases.uploads.ORPHAN_AGE), so an upload still in its transaction is never swept.
    "remove-orphan-files": {
        "task": "cases.tasks.remove_orphan_files",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    # The event log's partitions on PostgreSQL: this month and the next ones, made ahead, and
    # rows the default partition caught moved into months of their own (cases.partitions).
    "create-event-partitions": {
        "task": "cases.tasks.create_event_partitions",
        "schedule": 6 * 3600.0,
        "options": {"expires": 3600.0},
    },
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if not os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "whistle@localhost")
# The public base URL, e.g. https://whistle.example.gov.cn, used to make absolute links in mail;
# empty leaves them relative (`manage.py check --deploy` warns, cases.W003).
WHISTLE_SITE_URL = os.environ.get("WHISTLE_SITE_URL", "")
# The channels that deliver notifications (cases.channels), comma-separated, among inbox, mail,
# sms, dingtalk, wecom. Credentials come only from the environment, never from the database.
WHISTLE_NOTIFICATION_CHANNELS = env_list("WHISTLE_NOTIFICATION_CHANNELS", "inbox,mail")
# An urgent alert still unread this many minutes after it was sent is texted (SMS) to a user
# who was not texted at once (cases.alerting); 0 turns that escalation off.
WHISTLE_URGENT_ESCALATION_MINUTES = int(os.environ.get("WHISTLE_URGENT_ESCALATION_MINUTES", "15"))
# Attempts per delivery before it is given up; the wait after the n-th failure is
# WHISTLE_DELIVERY_BACKOFF_SECONDS * 2^(n-1) (at most 6 hours).
WHISTLE_DELIVERY_ATTEMPTS = max(int(os.environ.get("WHISTLE_DELIVERY_ATTEMPTS", "5")), 1)
WHISTLE_DELIVERY_BACKOFF_SECONDS = float(os.environ.get("WHISTLE_DELIVERY_BACKOFF_SECONDS", "60"))
# A worker's claim on a delivery lasts this long; a killed worker's claims are taken back after.
WHISTLE_DELIVERY_LEASE_SECONDS = float(os.environ.get("WHISTLE_DELIVERY_LEASE_SECONDS", "300"))
# Sends one delivery task makes at once (threads), and each provider call's timeout.
WHISTLE_DELIVERY_THREADS = max(int(os.environ.get("WHISTLE_DELIVERY_THREADS", "16")), 1)
WHISTLE_DELIVERY_TIMEOUT_SECONDS = float(os.environ.get("WHISTLE_DELIVERY_TIMEOUT_SECONDS", "5"))
# SMS (cases.channels.sms): "aliyun" (Dysmsapi SendSms) or "tencent" (SMS 2021-01-11 SendSms).
WHISTLE_SMS_PROVIDER = os.environ.get("WHISTLE_SMS_PROVIDER", "aliyun")
# Empty: the provider's public endpoint (dysmsapi.aliyuncs.com, sms.tencentcloudapi.com).
WHISTLE_SMS_ENDPOINT = os.environ.get("WHISTLE_SMS_ENDPOINT", "")
WHISTLE_SMS_PROTOCOL = os.environ.get("WHISTLE_SMS_PROTOCOL", "https")
WHISTLE_SMS_ACCESS_KEY_ID = os.environ.get("WHISTLE_SMS_ACCESS_KEY_ID", "")
WHISTLE_SMS_ACCESS_KEY_SECRET = os.environ.get("WHISTLE_SMS_ACCESS_KEY_SECRET", "")
WHISTLE_SMS_SIGN_NAME = os.environ.get("WHISTLE_SMS_SIGN_NAME", "")
# Aliyun: the template code (SMS_...); Tencent: the template id. Its variables: the case
# number and the subject.
WHISTLE_SMS_TEMPLATE = os.environ.get("WHISTLE_SMS_TEMPLATE", "")
WHISTLE_SMS_SDK_APP_ID = os.environ.get("WHISTLE_SMS_SDK_APP_ID", "")  # Tencent only
WHISTLE_SMS_REGION = os.environ.get("WHISTLE_SMS_REGION", "ap-guangzhou")  # Tencent only
# DingTalk work notifications (cases.channels.dingtalk): an internal app's key, secret, agent.
WHISTLE_DINGTALK_BASE_URL = os.environ.get("WHISTLE_DINGTALK_BASE_URL", "https://oapi.dingtalk.com")
WHISTLE_DINGTALK_APP_KEY = os.environ.get("WHISTLE_DINGTALK_APP_KEY", "")
WHISTLE_DINGTALK_APP_SECRET = os.environ.get("WHISTLE_DINGTALK_APP_SECRET", "")
WHISTLE_DINGTALK_AGENT_ID = os.environ.get("WHISTLE_DINGTALK_AGENT_ID", "")
# WeCom application messages (cases.channels.wecom): the corp id, the app's secret and agent.
WHISTLE_WECOM_BASE_URL = os.environ.get("WHISTLE_WECOM_BASE_URL", "https://qyapi.weixin.qq.com")
WHISTLE_WECOM_CORP_ID = os.environ.get("WHISTLE_WECOM_CORP_ID", "")
WHISTLE_WECOM_SECRET = os.environ.get("WHISTLE_WECOM_SECRET", "")
WHISTLE_WECOM_AGENT_ID = os.environ.get("WHISTLE_WECOM_AGENT_ID", "")
# Web Push (cases.webpush, the "turn on alerts on this phone" control of the inbox): the VAPID
# key pair as base64url (public: the 65-byte uncompressed point the browser is given; private:
# the 32-byte key or its DER) and the contact (mailto: or https:) push services may write to.
# Without both keys push is not offered.
WHISTLE_VAPID_PUBLIC_KEY = os.environ.get("WHISTLE_VAPID_PUBLIC_KEY", "")
WHISTLE_VAPID_PRIVATE_KEY = os.environ.get("WHISTLE_VAPID_PRIVATE_KEY", "")
WHISTLE_VAPID_SUBJECT = os.environ.get("WHISTLE_VAPID_SUBJECT", "mailto:whistle@localhost")
# A new whistle is flagged as a likely duplicate of an open case of the same item filed within
# this many metres and hours (cases.screening).
WHISTLE_DUPLICATE_RADIUS_M = float(os.environ.get("WHISTLE_DUPLICATE_RADIUS_M", "200"))
WHISTLE_DUPLICATE_WINDOW_HOURS = float(os.environ.get("WHISTLE_DUPLICATE_WINDOW_HOURS", "72"))
# A whistle's place may lie this many metres outside the polygon of its grid (GPS error on the
# grid's edge); farther off it is refused (cases.services.filing).
WHISTLE_GRID_TOLERANCE_M = float(os.environ.get("WHISTLE_GRID_TOLERANCE_M", "200"))
# A JSON request body nested deeper than this is refused with a 400 (core.api.parsers).
WHISTLE_JSON_MAX_DEPTH = int(os.environ.get("WHISTLE_JSON_MAX_DEPTH", "32"))
# The access audit (audit app) keeps its records this many days; at least 180 (MLPS 2.0: six
# months of logs), which the database trigger enforces whatever this says (audit.E001).
WHISTLE_AUDIT_RETENTION_DAYS = int(os.environ.get("WHISTLE_AUDIT_RETENTION_DAYS", "180"))
# The sample size a spot check (抽查) proposes per unit and period (spotchecks).
WHISTLE_SPOT_CHECK_SAMPLE_SIZE = int(os.environ.get("WHISTLE_SPOT_CHECK_SAMPLE_SIZE", "5"))
# The key of the events' hash chain (cases.trace): HMAC-SHA256 under it, plain SHA-256 when
# empty. Keep it outside the database and its backups; changing it breaks every chain.
WHISTLE_TRACE_KEY = os.environ.get("WHISTLE_TRACE_KEY", "")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "teams.tokens.TokenAuthentication",  # knox's, one statement less a request
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # JSON nested deeper than WHISTLE_JSON_MAX_DEPTH is a 400, not a 500 (core.api.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# API tokens (django-rest-knox): only a SHA-512 digest is stored, the token is shown once; each
# expires after WHISTLE_API_TOKEN_DAYS (90) days; a user holds at most 10 at a time. Clients
# send "Authorization: Token <token>" as before.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=int(os.environ.get("WHISTLE_API_TOKEN_DAYS", "90"))),
    "TOKEN_LIMIT_PER_USER": 10,
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Whistle API",
    "DESCRIPTION": "Cases, dispatches, notifications and the organisation of Whistle.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Case levels and region levels share their values: one enum in the schema.
    # The alert channels appear in several fields of /api/me/alerts/: one enum as well.
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "teams.levels.level_choices",
        "CommitteeLevelEnum": "teams.levels.committee_choices",
        "AlertChannelEnum": "teams.models.AlertChannel",
    },
}

# HTTPS hardening: on for a production deployment behind TLS (WHISTLE_HTTPS=1).
WHISTLE_HTTPS = env_bool("WHISTLE_HTTPS", False)
SECURE_SSL_REDIRECT = WHISTLE_HTTPS
SESSION_COOKIE_SECURE = WHISTLE_HTTPS
CSRF_COOKIE_SECURE = WHISTLE_HTTPS
SECURE_HSTS_SECONDS = int(
    os.environ.get("SECURE_HSTS_SECONDS", "31536000" if WHISTLE_HTTPS else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = WHISTLE_HTTPS
SECURE_HSTS_PRELOAD = WHISTLE_HTTPS
# The reverse proxies in front of us (core.clientaddr): a number of proxy hops ("1": one proxy
# appends the client's address to X-Forwarded-For) or a comma-separated list of the proxies'
# networks ("10.0.0.0/8,192.0.2.10/32"). Empty or 0: X-Forwarded-For is ignored and the socket's
# address is the client's. WHISTLE_BEHIND_PROXY=1 alone still means one hop.
_trusted_proxies = os.environ.get("WHISTLE_TRUSTED_PROXIES", "").strip()
WHISTLE_TRUSTED_PROXIES: int | list[str] = (
    int(_trusted_proxies or "0")
    if _trusted_proxies.isdigit() or not _trusted_proxies
    else env_list("WHISTLE_TRUSTED_PROXIES", "")
)
WHISTLE_BEHIND_PROXY = env_bool("WHISTLE_BEHIND_PROXY", False) or bool(WHISTLE_TRUSTED_PROXIES)
if WHISTLE_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy and Permissions-Policy: whistle.security.SecurityHeadersMiddleware.
SESSION_COOKIE_HTTPONLY = True
# Session limits (teams.sessions): a session ends after this many minutes without a request,
# 30 for privileged roles (teams.privilege) and 8 hours for others, and 12 hours after sign-in
# whatever happens. "Sign out everywhere" on the home page ends every session of the user.
WHISTLE_SESSION_IDLE_MINUTES_PRIVILEGED = int(
    os.environ.get("WHISTLE_SESSION_IDLE_MINUTES_PRIVILEGED", "30")
)
WHISTLE_SESSION_IDLE_MINUTES = int(os.environ.get("WHISTLE_SESSION_IDLE_MINUTES", "480"))
WHISTLE_SESSION_MAX_HOURS = int(os.environ.get("WHISTLE_SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = WHISTLE_SESSION_MAX_HOURS * 3600

# Maps: the tile source is a setting; pages work without tiles (grid outlines only).
WHISTLE_TILE_URL = os.environ.get("WHISTLE_TILE_URL", "")
WHISTLE_TILE_ATTRIBUTION = os.environ.get("WHISTLE_TILE_ATTRIBUTION", "")
WHISTLE_TILE_CRS = os.environ.get("WHISTLE_TILE_CRS", "wgs84")  # or "gcj02"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_error": {"()": "whistle.logfilters.ClientErrorWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # A 403 or 404 is one line in the console; tracebacks are kept for server errors.
    "loggers": {"django.request": {"filters": ["client_error"]}},
}
