"""Production as bench/web.py measures it, on this machine: production.py's request path
(DEBUG off, the manifest's static files, the cached template loader) without what only a real
deployment has. Secrets and hosts have throwaway defaults; plain HTTP (no redirect to HTTPS);
and, unlike production.py, the embedded default's SQLite file and per-process cache are allowed,
since measuring them is the point of `bench/web.py --db embedded`. With DATABASE_URL and
CACHE_URL (PostgreSQL and Redis) it is production's stack."""
from .base import *  # noqa: F403
from .base import DATABASES, STORAGES, env

# As production.py: connections kept between requests.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="bench-only-insecure-key")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
