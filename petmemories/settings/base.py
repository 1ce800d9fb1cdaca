"""Settings shared by every environment.

Everything that differs between a laptop and production comes from the environment
(django-environ). The embedded defaults need no server: SQLite, Celery's filesystem
broker and local files, all under ``var/``.
"""
import ipaddress
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "allauth",
    "accounts.apps.EmailAddressesConfig",  # allauth.account
    "accounts",
    "partners",
    "memorials",
    "studio",
    "shop",
    "generation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "petmemories.urls"
WSGI_APPLICATION = "petmemories.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop.context_processors.shop",
            ],
            "libraries": {"site": "core.sitetags"},
        },
    },
    # Plain-text emails (core.mail): the same templates, with nothing HTML-escaped.
    {
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False, "libraries": {"site": "core.sitetags"}},
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A worker and the web server write to the same file: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Accounts -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "studio:gallery"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
# "optional" lets a new user in at once (the verification mail still goes out);
# production settings make it "mandatory".
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[PetMemories] "

# --- Social sign-in (Kakao, Naver, Google, Apple) ----------------------------------------
# allauth's own providers, each on when its keys are in the environment (or when staff add a
# "Social application" in the admin); one with neither shows no button and its login URL
# answers 404. Registering the apps with each provider: docs/operations.md.
INSTALLED_APPS += [
    "allauth.socialaccount",
    "allauth.socialaccount.providers.kakao",
    "allauth.socialaccount.providers.naver",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.apple",
]
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_QUERY_EMAIL = True
# The same rule as email sign-up: a provider that vouches for an email signs in to the account
# that verified that email with us, and stays connected to it; accounts.adapters refuses an
# account whose email we never verified.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True


def social_providers_from_env(env: environ.Env) -> dict:
    """allauth's SOCIALACCOUNT_PROVIDERS: an app for each provider whose keys are all set."""
    def value(name: str) -> str:
        return env.str(f"SOCIAL_{name}", default="", multiline=True).strip()

    providers = {
        # Kakao hands out the email only for the "account_email" consent item.
        "kakao": {"SCOPE": ["account_email", "profile_nickname"]},
        "naver": {},
        "google": {},
        "apple": {},
    }
    for provider in ("kakao", "naver", "google"):
        client_id, secret = value(f"{provider.upper()}_CLIENT_ID"), value(f"{provider.upper()}_SECRET")
        if client_id and secret:
            providers[provider]["APPS"] = [{"client_id": client_id, "secret": secret}]
    # Apple's client secret is a JWT we sign with the private key: allauth names the key id
    # "secret" and the team id "key".
    apple = {name: value(f"APPLE_{name}") for name in ("CLIENT_ID", "TEAM_ID", "KEY_ID", "PRIVATE_KEY")}
    if all(apple.values()):
        providers["apple"]["APPS"] = [{
            "client_id": apple["CLIENT_ID"], "key": apple["TEAM_ID"], "secret": apple["KEY_ID"],
            "settings": {"certificate_key": apple["PRIVATE_KEY"]},
        }]
    return providers


SOCIALACCOUNT_PROVIDERS = social_providers_from_env(env)

# --- Email ----------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="PetMemories <hello@petmemories.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation ---------------------------------------------------------------
# English and Korean, chosen from the browser's Accept-Language until the visitor picks one
# with the switcher (a cookie). The catalogs are committed in locale/ (.po and compiled .mo).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Media is private: it is never served from MEDIA_URL, only through views that check
# permission (see studio/media.py).
# The largest photo file accepted. An upload stops being read as soon as it passes this
# (studio/uploads.py), so set the proxy's body limit a little above it.
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=25 * 1024 * 1024)
# The form fields and JSON bodies around uploads (Django's default, said here on purpose:
# photos are limited above, not by this).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))


def storage_from_env(env: environ.Env) -> dict:
    """The default storage: S3 (private objects, signed URLs) when AWS_STORAGE_BUCKET_NAME is
    set, local files under MEDIA_ROOT otherwise."""
    bucket = env("AWS_STORAGE_BUCKET_NAME", default="")
    if not bucket:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": MEDIA_ROOT, "base_url": MEDIA_URL},
        }
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "access_key": env("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default=None),
            "addressing_style": env("AWS_S3_ADDRESSING_STYLE", default=None),
            "signature_version": "s3v4",
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=600),
            "file_overwrite": False,
        },
    }


STORAGES = {
    "default": storage_from_env(env),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Shop and payments ------------------------------------------------------------------
# Stripe (docs/payments.md). Without STRIPE_SECRET_KEY the shop shows its catalog and cart
# but says payments are not set up. STRIPE_API_BASE points the client at an emulator in tests.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)  # seconds, as Stripe's own libraries
# Absolute links in emails and for Stripe's redirects back to us.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SHOP_SHIPPING_COUNTRIES = env.list("SHOP_SHIPPING_COUNTRIES", default=["KR", "US"])

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://localhost/")
CELERY_BROKER_FOLDER = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A web request that cannot reach the broker gives up within about a second and leaves
    # the job queued for ``manage.py requeue_jobs``, rather than hanging.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
    }
    for folder in ("queue", "processed", "control"):
        (CELERY_BROKER_FOLDER / folder).mkdir(parents=True, exist_ok=True)
else:
    # A job may run for many minutes; with late acknowledgement the broker must not hand it
    # to a second worker meanwhile.
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = 3 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# How long a web request waits for the broker before it gives up and leaves the job queued.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=4.0)
# Said explicitly (Celery 6 turns it on): when the worker loses the broker, a job it is running
# goes on. Its state lives in the database, not in the message; cancelling it would throw away
# minutes of rendering for a broker blip, and the job would then wait for the sweep to send it
# again. The job's message may be handed out once more meanwhile (RabbitMQ does so when the
# connection drops); services.job_claim sees its worker is alive and leaves the job alone.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False

# --- Generation -----------------------------------------------------------------------
# How job ids reach the workers: "celery" (the broker above) or "dramatiq" (Redis).
GENERATION_TASK_BACKEND = env("GENERATION_TASK_BACKEND", default="celery")
DRAMATIQ_BROKER_URL = env("DRAMATIQ_BROKER_URL", default="redis://127.0.0.1:6379/0")
# GPU engines read their weights from <GENERATION_MODELS_DIR>/<engine name>/ (diffusers'
# folder format), never from the internet while a job runs.
GENERATION_MODELS_DIR = Path(env("GENERATION_MODELS_DIR", default=str(VAR_DIR / "models")))
# Let GPU engines run on the CPU (slowly): for tests with tiny models, never for production.
GENERATION_ALLOW_CPU = env.bool("GENERATION_ALLOW_CPU", default=False)
# Compile a GPU engine's denoiser with torch.compile (on CUDA only): videos render faster, but a
# worker's first video at each size waits while it compiles (bench/diffusion.py measures both),
# and the GPU worker needs a C compiler (Triton builds its kernel launchers with it). The frames
# are the same either way, up to floating-point rounding. A worker that cannot compile runs
# uncompiled, with a warning in its log.
GENERATION_TORCH_COMPILE = env.bool("GENERATION_TORCH_COMPILE", default=True)
# Seconds a job may run, per engine, over the engines' own limits: "living-photo=120,svd-xt=900".
GENERATION_TIME_LIMITS = env.dict("GENERATION_TIME_LIMITS", cast={"value": int}, default={})
# Workers say which engines they can run every GENERATION_WORKER_REPORT_SECONDS / 3; an engine
# is offered while such a report is fresher than this.
GENERATION_WORKER_REPORT_SECONDS = env.int("GENERATION_WORKER_REPORT_SECONDS", default=900)
GENERATION_DEFAULT_ENGINE = env("GENERATION_DEFAULT_ENGINE", default="living-photo")
# living-photo's blink for people: off, as it reads as a puffy lid more often than as a blink
# (see the frames in docs/images/ and docs/architecture.md); an operator may turn it on.
GENERATION_LIVING_PHOTO_BLINK = env.bool("GENERATION_LIVING_PHOTO_BLINK", default=False)
# memorial-portrait-sdxl's identity add-on (InstantID / IP-Adapter FaceID): off, as InsightFace's
# face-analysis models it needs are licensed for non-commercial research only. The add-on is not
# built yet; switched on, the engine reports itself not ready and says why.
GENERATION_PORTRAIT_SDXL_FACEID = env.bool("GENERATION_PORTRAIT_SDXL_FACEID", default=False)
# memorial-portrait-sdxl's denoising steps and prompt guidance, for the checkpoint in its models
# folder: SDXL base (what `engines download` fetches) wants about 30 at 6; a turbo checkpoint
# (the plan's DreamShaper XL Turbo) is distilled for 4–8 steps at about 2: set 8 and 2.0.
GENERATION_PORTRAIT_SDXL_STEPS = env.int("GENERATION_PORTRAIT_SDXL_STEPS", default=30)
GENERATION_PORTRAIT_SDXL_GUIDANCE = env.float("GENERATION_PORTRAIT_SDXL_GUIDANCE", default=6.0)
# Engines of your own, beside the built-in ones: dotted paths to VideoEngine or ImageEngine
# subclasses, comma-separated. Set it the same for the web and every worker process.
GENERATION_EXTRA_ENGINES = env.list("GENERATION_EXTRA_ENGINES", default=[])
# --- Job recovery (docs/operations.md, "When a worker or the broker dies") -----------------
# ``manage.py requeue_jobs --every GENERATION_SWEEP_SECONDS`` (the `requeue` process) sweeps:
# it puts back in line the running jobs whose worker died, and tops each queue up so that it
# holds a message for every queued job (a broker restarted without persistence lost them).
GENERATION_SWEEP_SECONDS = env.int("GENERATION_SWEEP_SECONDS", default=20)
# Worker processes beat this often; one silent this long is dead, and its running job orphaned.
GENERATION_HEARTBEAT_SECONDS = env.int("GENERATION_HEARTBEAT_SECONDS", default=10)
GENERATION_WORKER_DEAD_AFTER_SECONDS = env.int("GENERATION_WORKER_DEAD_AFTER_SECONDS", default=60)
# A job whose worker died this many times fails with a reason (and gives its credit back)
# rather than taking down worker after worker.
GENERATION_MAX_ATTEMPTS = env.int("GENERATION_MAX_ATTEMPTS", default=3)
# What one account may have made, on any plan and in launch mode too: jobs queued or running
# at once, and jobs started since midnight (TIME_ZONE).
GENERATION_MAX_IN_FLIGHT_PER_ACCOUNT = env.int("GENERATION_MAX_IN_FLIGHT_PER_ACCOUNT", default=3)
GENERATION_MAX_PER_DAY_PER_ACCOUNT = env.int("GENERATION_MAX_PER_DAY_PER_ACCOUNT", default=30)

# --- Abuse limits (see docs/operations.md) ------------------------------------------------
# Counted in the cache, so they hold across processes only with a shared cache (production
# requires CACHE_URL). Per client address, per hour.
FRAMES_REGISTER_PER_ADDRESS_PER_HOUR = env.int("FRAMES_REGISTER_PER_ADDRESS_PER_HOUR", default=20)
SHARE_REPORTS_PER_ADDRESS_PER_HOUR = env.int("SHARE_REPORTS_PER_ADDRESS_PER_HOUR", default=10)
# The upload page's face picker: photos one account may have looked at for faces, per hour.
PHOTO_FACES_PER_ACCOUNT_PER_HOUR = env.int("PHOTO_FACES_PER_ACCOUNT_PER_HOUR", default=60)
# A memorial page's PIN: tries per client address and page in 15 minutes, right ones included.
MEMORIAL_PIN_TRIES_PER_ADDRESS = env.int("MEMORIAL_PIN_TRIES_PER_ADDRESS", default=5)
# Guestbook messages, per hour: from one client address (any page), and to one page (anyone).
MEMORIAL_MESSAGES_PER_ADDRESS_PER_HOUR = env.int("MEMORIAL_MESSAGES_PER_ADDRESS_PER_HOUR", default=5)
MEMORIAL_MESSAGES_PER_PAGE_PER_HOUR = env.int("MEMORIAL_MESSAGES_PER_PAGE_PER_HOUR", default=30)
# A frame registered this many hours ago and never paired is deleted (`expire_frames`, or beat).
FRAMES_UNPAIRED_EXPIRE_HOURS = env.int("FRAMES_UNPAIRED_EXPIRE_HOURS", default=24)
# Invitations to a frame's family members one owner may send a day (each is an email we send).
FRAME_INVITES_PER_DAY = env.int("FRAME_INVITES_PER_DAY", default=20)
# The client's address is REMOTE_ADDR unless a proxy in front of us is configured to pass it:
# the header it sets ("X-Forwarded-For", "X-Real-IP") and, for a comma-separated list, how many
# proxies of ours appended to it (the client is that many entries from the right). Never set
# this without such a proxy: a client could then name any address it likes.
# Given as "X-Forwarded-For" or as Django's META key "HTTP_X_FORWARDED_FOR" alike.
TRUSTED_CLIENT_IP_HEADER = env("TRUSTED_CLIENT_IP_HEADER", default="").upper().removeprefix("HTTP_").replace("_", "-")
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
# allauth's login, sign-up and password-reset throttles see the same address.
if TRUSTED_CLIENT_IP_HEADER == "X-FORWARDED-FOR":
    ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
elif TRUSTED_CLIENT_IP_HEADER:
    ALLAUTH_TRUSTED_CLIENT_IP_HEADER = TRUSTED_CLIENT_IP_HEADER

# --- Public share pages at scale (docs/operations.md, "Share pages behind a CDN") ----------
# An anonymous visitor's page may be kept this many seconds by browsers and a CDN; a page
# switched off, moved or taken down can live on in such a copy no longer than this.
SHARE_PAGE_MAX_AGE = env.int("SHARE_PAGE_MAX_AGE", default=60)
# The rendered anonymous page is kept in the cache this long, per link, language and release
# (a change to the creation or its job forgets it at once; this bounds what nothing announced).
SHARE_PAGE_CACHE_SECONDS = env.int("SHARE_PAGE_CACHE_SECONDS", default=60)
# Names this deployment in the cached pages' keys and ETags, so a release never serves the
# previous one's HTML (set it to the commit id; unset, cached pages age out in the seconds above).
RELEASE = env("RELEASE", default="")
# Visits are counted in the cache and written to the database this often: by the beat task
# `studio.flush_share_views` with Redis, and by each web process itself with the per-process
# cache (0: only when flushed explicitly, as the tests do). A process that dies loses at most
# the visits of one interval.
SHARE_VIEWS_FLUSH_SECONDS = env.int("SHARE_VIEWS_FLUSH_SECONDS", default=60)

# --- Periodic tasks (the `beat` process) ---------------------------------------------------
CELERY_BEAT_SCHEDULE = {
    "flush-share-views": {"task": "studio.flush_share_views", "schedule": float(SHARE_VIEWS_FLUSH_SECONDS or 60)},
    "expire-unpaired-frames": {"task": "studio.expire_unpaired_frames", "schedule": 3600.0},
    "expire-data-exports": {"task": "accounts.expire_data_exports", "schedule": 3600.0},
    "sweep-storage": {"task": "generation.sweep_storage", "schedule": 24 * 3600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# /readyz answers only the operator (petmemories/health.py): requests straight from these
# networks (not through the public proxy), or with "Authorization: Bearer <READYZ_TOKEN>".
# A mistyped network stops the process here rather than failing every probe.
READYZ_ALLOWED_NETWORKS = [ipaddress.ip_network(network) for network in env.list(
    "READYZ_ALLOWED_NETWORKS",
    default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
)]
READYZ_TOKEN = env("READYZ_TOKEN", default="")
# The storage check writes a probe object at most once this often; in between it only lists.
READYZ_STORAGE_WRITE_SECONDS = env.int("READYZ_STORAGE_WRITE_SECONDS", default=300)

# --- A customer's own data (accounts: export and deletion; petmemories/storage.py) ----------
# Days a data export can be downloaded; then its file is deleted.
DATA_EXPORT_DAYS = env.int("DATA_EXPORT_DAYS", default=7)
# `manage.py sweep_storage` removes files no row points to once they are this old: an upload or
# a render whose row is not written yet is younger.
STORAGE_SWEEP_GRACE_HOURS = env.float("STORAGE_SWEEP_GRACE_HOURS", default=24)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
