"""Settings for the test suite (pytest uses these).

Everything the tests write (the SQLite test database, media, the filesystem broker's
folders) goes to a fresh temporary folder, which a worker process started by a test shares
through the VAR_DIR variable it inherits.
"""
import os
import tempfile

os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="petmemories-test-"))

from .base import *  # noqa: E402, F403
from .base import DATABASES, VAR_DIR, env  # noqa: E402

SECRET_KEY = env("DJANGO_SECRET_KEY", default="test-only-insecure-key")
# Visits wait for an explicit flush (tests/studio/test_share_views.py), not a timer thread.
SHARE_VIEWS_FLUSH_SECONDS = env.int("SHARE_VIEWS_FLUSH_SECONDS", default=0)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ACCOUNT_RATE_LIMITS = False  # tests/studio/test_abuse_limits.py turns them on
# The suite makes many videos for one account; the tests of these caps set their own.
GENERATION_MAX_IN_FLIGHT_PER_ACCOUNT = GENERATION_MAX_PER_DAY_PER_ACCOUNT = 1000
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a worker process started by a test can open it too.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
# Static files come straight from the apps' folders; the tests never run collectstatic.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
