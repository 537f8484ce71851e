"""Settings of the django-helpdesk comparison site (bench.helpdesk_site): django-helpdesk as its
documentation installs it, on the benchmark's PostgreSQL server, with Django's default
middleware, DRF token or session authentication and mail to files, as Whistle's bench sends it.

The database comes from HELPDESK_DB_* (bench.intake passes them; its own database on the same
server as Whistle's), CONN_MAX_AGE and PostgreSQL's JIT as Whistle's settings set them.
"""

import os
from pathlib import Path

VAR_DIR = Path(os.environ["HELPDESK_VAR_DIR"])

# Made afresh by bench/helpdesk.py for each run (a loopback benchmark site).
SECRET_KEY = os.environ["HELPDESK_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "bench.helpdesk_site.urls"
WSGI_APPLICATION = "bench.helpdesk_site.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["HELPDESK_DB_NAME"],
        "USER": os.environ.get("HELPDESK_DB_USER", ""),
        "PASSWORD": os.environ.get("HELPDESK_DB_PASSWORD", ""),
        "HOST": os.environ.get("HELPDESK_DB_HOST", ""),
        "PORT": os.environ.get("HELPDESK_DB_PORT", ""),
        "CONN_MAX_AGE": int(os.environ.get("CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"options": "-c jit=off"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
MEDIA_ROOT = str(VAR_DIR / "media")
LOGIN_URL = "/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

# Mail goes to files, as the Whistle side's does (whistle.settings without EMAIL_HOST).
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = "helpdesk@localhost"

# Teams need the optional pinax-teams (the "teams" extra), which a plain install lacks.
HELPDESK_TEAMS_MODE_ENABLED = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
