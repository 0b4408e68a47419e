"""Settings only (environment variables override); no business rules here."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("YS_VAR_DIR", BASE_DIR / "var"))

# Secrets (app/keys.py): no defaults. Outside the demo (YS_DEMO=1, which `make run` sets) the web
# app, the worker and the CLI refuse to start until each is set to its own long random value.
YS_DEMO = os.environ.get("YS_DEMO", "0") == "1"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'yingshang110.db'}")
SQLALCHEMY_TRACK_MODIFICATIONS = False
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# Reporter protection: IDENTITY_KEY encrypts identities (several keys, newest first, separated by
# commas: the first encrypts, all decrypt); QUERY_CODE_KEY keys the hashes of query codes.
IDENTITY_KEY = os.environ.get("IDENTITY_KEY", "")
QUERY_CODE_KEY = os.environ.get("QUERY_CODE_KEY", "")

# Uploads: stored outside the web root; the request size is refused before the body is read.
UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(VAR_DIR / "uploads"))
UPLOAD_MAX_BYTES = 20 * 1024 * 1024  # one file
REPORT_DIR = os.environ.get("REPORT_DIR", str(VAR_DIR / "reports"))
# Issued notices, stored once as PDF under their SHA-256, and the offices' seal images.
NOTICE_DIR = os.environ.get("NOTICE_DIR", str(VAR_DIR / "notices"))
SEAL_DIR = os.environ.get("SEAL_DIR", str(VAR_DIR / "seals"))
# Shared file storage for several hosts (app/storage.py): with STORAGE_URL=s3://bucket/prefix the
# uploads, notices, reports and seals above go to private objects under prefix/<area>/ of an
# S3-compatible store (S3_ENDPOINT_URL for MinIO, Ceph...; keys here or boto3's AWS_* chain).
STORAGE_URL = os.environ.get("STORAGE_URL", "")
S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL", "")
S3_REGION = os.environ.get("S3_REGION", "")
S3_ACCESS_KEY_ID = os.environ.get("S3_ACCESS_KEY_ID", "")
S3_SECRET_ACCESS_KEY = os.environ.get("S3_SECRET_ACCESS_KEY", "")
S3_ADDRESSING_STYLE = os.environ.get("S3_ADDRESSING_STYLE", "")  # path/virtual; default path with an endpoint
# An office's licensed faces (方正小标宋, 仿宋_GB2312, 楷体_GB2312, 黑体): .ttf/.otf files dropped here
# win over the bundled substitutes (reports/pdf.py).
REPORT_FONTS_DIR = os.environ.get("REPORT_FONTS_DIR", str(VAR_DIR / "fonts"))
# FAB's generic file download route reads this; no screen stores files there (404 for anything).
UPLOAD_FOLDER = str(VAR_DIR / "fab-files")
UPLOAD_MAX_FILES = 10
MAX_CONTENT_LENGTH = 60 * 1024 * 1024  # one request (all files and fields)

# Rate limits (Flask-Limiter; storage in Redis, or memory for tests and the demo).
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
RATELIMIT_HEADERS_ENABLED = True
FILING_RATE_LIMIT = "10 per hour"
LOGIN_RATE_LIMIT = "10 per minute"  # per client, on the login form and the API login


def _login_rate_limit() -> str:
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


AUTH_RATE_LIMITED = True
AUTH_RATE_LIMIT = _login_rate_limit
TRACKING_RATE_LIMIT = "20 per hour"
TRACKING_GLOBAL_RATE_LIMIT = "2000 per hour"
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
# The platform's public phone line, printed on the windows' QR sheets ("" prints none).
PUBLIC_HOTLINE = os.environ.get("PUBLIC_HOTLINE", "")

# Notifications: without MAIL_SERVER / SMS_GATEWAY_URL messages are held in the outbox (demo).
MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"
MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
MAIL_FROM = os.environ.get("MAIL_FROM", "营商110 <noreply@yingshang110.local>")
MAIL_DOMAIN = os.environ.get("MAIL_DOMAIN", "yingshang110.local")
SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN", "")
SMS_GATEWAY_CLASS = os.environ.get("SMS_GATEWAY_CLASS", "app.services.delivery.HttpSmsGateway")
# Callbacks to connected systems go to https URLs on public addresses only. Hosts listed here
# (comma-separated names or IPs, set by an administrator) may also be called over http and
# resolve to internal addresses (a receiver inside the government network; the tests' 127.0.0.1).
CALLBACK_ALLOW_HTTP_HOSTS = [
    h.strip().lower() for h in os.environ.get("CALLBACK_ALLOW_HTTP_HOSTS", "").split(",") if h.strip()
]
CALLBACK_TIMEOUT_SECONDS = float(os.environ.get("CALLBACK_TIMEOUT_SECONDS", "10"))
ENQUEUE_AFTER_COMMIT = os.environ.get("ENQUEUE_AFTER_COMMIT", "1") == "1"
HOME_COUNTS_SECONDS = 30  # the landing page's counts of open cases are at most this old
SWEEP_INTERVAL_SECONDS = int(os.environ.get("SWEEP_INTERVAL_SECONDS", "60"))

APP_NAME = "营商110"
APP_THEME = ""
FAB_UPDATE_PERMS = os.environ.get("FAB_UPDATE_PERMS", "0") == "1"
FAB_CREATE_DB = False
FAB_API_SWAGGER_UI = True
FAB_SECURITY_MANAGER_CLASS = "app.security.SecurityManager"
AUTH_TYPE = 1  # AUTH_DB
AUTH_ROLE_ADMIN = "Admin"
AUTH_ROLE_PUBLIC = "Public"
FAB_ADD_SECURITY_API = True
FAB_API_MAX_PAGE_SIZE = 100
FAB_API_KEY_ENABLED = True  # connected systems (e.g. a 12345 platform) file cases with a key
FAB_API_KEY_PREFIXES = ["ys110_"]


# Staff accounts (app/accounts.py, app/passwords.py).
def _password_policy(password: str) -> None:
    from app.accounts import check_password_policy

    check_password_policy(password)


# Every password set through FAB (add user, reset password, reset my password, the REST user
# API) passes the policy; the CLI and the security manager check it too.
FAB_PASSWORD_COMPLEXITY_ENABLED = True
FAB_PASSWORD_COMPLEXITY_VALIDATOR = _password_policy
PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", "12"))
PASSWORD_MIN_SCORE = int(os.environ.get("PASSWORD_MIN_SCORE", "3"))  # zxcvbn's 0-4 scale
# Lockout per account (in the database, so every worker agrees): after LOGIN_LOCKOUT_AFTER
# wrong passwords in a row the account is locked for LOGIN_LOCKOUT_SECONDS, doubling with each
# further failure up to LOGIN_LOCKOUT_MAX_SECONDS; a successful login resets the count.
LOGIN_LOCKOUT_AFTER = int(os.environ.get("LOGIN_LOCKOUT_AFTER", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "60"))
LOGIN_LOCKOUT_MAX_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_MAX_SECONDS", "3600"))
# Roles whose users must pass a TOTP second factor, as role names separated by commas: every
# staff role, since each sees or can be granted a reporter's identity (the clerk at intake, the
# handler for named complaints, anyone the custodian approves) or pays money. Only connected
# systems (Integration, API keys) log in without one.
_STAFF_ROLES = "Admin,Clerk,Dispatcher,Handler,Supervisor,Leader,Finance,Custodian"
TOTP_REQUIRED_ROLES = [
    r.strip() for r in os.environ.get("TOTP_REQUIRED_ROLES", _STAFF_ROLES).split(",") if r.strip()
]
TOTP_ISSUER = os.environ.get("TOTP_ISSUER", "营商110")
TOTP_PENDING_SECONDS = 300  # between the password and the code

WTF_CSRF_ENABLED = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Served over TLS (behind a proxy that sets X-Forwarded-Proto): cookies only travel encrypted.
SESSION_COOKIE_SECURE = os.environ.get("COOKIE_SECURE", "0") == "1"
REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind this many reverse proxies, trust their X-Forwarded-For/-Proto/-Host (client address for
# rate limits and lockouts, https for HSTS and secure cookies). 0: served directly.
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
REMEMBER_COOKIE_HTTPONLY = True
PERMANENT_SESSION_LIFETIME = 8 * 3600

BABEL_DEFAULT_LOCALE = "zh"
BABEL_DEFAULT_FOLDER = str(BASE_DIR / "translations")
BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
LANGUAGES = {
    "zh": {"flag": "cn", "name": "中文"},
    "en": {"flag": "gb", "name": "English"},
}
