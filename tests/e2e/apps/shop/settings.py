"""A Django project's settings.py, with Sentry set up the way Sentry's Django page shows it."""

import os

import sentry_sdk

sentry_sdk.init(
    dsn=os.environ["SHOP_SENTRY_DSN"],
    # Nothing else: the Django integration is enabled because Django is installed and used.
)

SECRET_KEY = "e2e-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "shop.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
