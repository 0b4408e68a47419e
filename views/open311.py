"""Open311 GeoReport v2 under /open311/v2 (JSON and XML): the services, filing a request with an
API key, and reading requests back. The mapping is app/services/open311.py; this only reads the
request, finds who calls (an API key, or nobody) and writes the spec's bodies and errors.

Like the REST API it takes no CSRF token (no cookie authenticates here: a write needs its API
key in the form or an ``Authorization: Bearer`` header). GETs are public; a key given in a URL
is refused, as URLs end up in logs. Rate-limited (views/__init__.py's way) per address, and a
request with a valid API key per key instead (a connected system's larger budget).
"""

from __future__ import annotations

from flask import Response, current_app, g, request
from flask_appbuilder import BaseView, expose
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from app import clock
from app import open311 as shapes
from app.errors import DomainError
from app.extensions import db
from app.services import open311 as service
from app.services.actor import Actor
from app.transaction import discard

DEFAULT_RATE_LIMIT = "600 per hour"  # per address, without a valid API key
DEFAULT_KEY_RATE_LIMIT = "1200 per minute"  # per valid API key: peaks near a dozen filings a second
# Open311 answers 400 for every kind of bad input; the domain's own statuses otherwise.
STATUS_OF = {422: 400, 409: 400}


def _answer(fmt: str, root: str, value, status: int = 200) -> Response:
    return Response(shapes.render(fmt, root, value), status=status, content_type=shapes.CONTENT_TYPES[fmt])


def _error(fmt: str, status: int, description: str) -> Response:
    discard(db.session)  # a refusal saves nothing it may have begun
    fmt = fmt if fmt in shapes.CONTENT_TYPES else "json"
    return _answer(fmt, "errors", shapes.errors(status, description), status)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


def _key_user(key: str):
    """The user of a valid API key (validated as the REST API does); a bad or revoked key, or
    one of an account that needs a second factor, is refused."""
    user = current_app.appbuilder.sm.validate_api_key(key)
    if user is None:
        raise shapes.Open311Error(403, gettext("The api_key is not valid."))
    return user


def _caller(key: str | None) -> Actor | None:
    """Who reads: the API key's user, or None without a key."""
    return None if key is None else Actor.from_user(_key_user(key))


def _filer(key: str | None) -> Actor:
    """The user of a key allowed to file cases through the API (the REST intake's permission)."""
    if not key:
        raise shapes.Open311Error(403, gettext("An api_key is required to file a request."))
    user = _key_user(key)
    if not current_app.appbuilder.sm.exist_permission_on_roles(
        "CaseApi", "can_post", [role.id for role in user.roles]
    ):
        raise shapes.Open311Error(403, gettext("This api_key may not file requests."))
    return Actor.from_user(user)


def _reader() -> Actor | None:
    if "api_key" in request.args:
        message = gettext("Send the api_key in the Authorization header, not in the URL.")
        raise shapes.Open311Error(400, message)
    return _caller(_bearer())


def _respond(fmt: str, build):
    """Answer ``build()`` in ``fmt``, or the spec's error body for a refusal (never a 500)."""
    if fmt not in shapes.CONTENT_TYPES:
        return _error("json", 404, gettext("The format must be json or xml."))
    try:
        root, value, status = build()
    except shapes.Open311Error as error:
        return _error(fmt, error.status, error.description)
    except DomainError as error:
        return _error(fmt, STATUS_OF.get(error.status, error.status), error.message)
    return _answer(fmt, root, value, status)


class Open311View(BaseView):
    """GeoReport v2 (wiki.open311.org/GeoReport_v2); no login, no menu."""

    route_base = "/open311/v2"
    default_view = "discovery"

    def create_blueprint(self, appbuilder, endpoint=None, static_folder=None):
        blueprint = super().create_blueprint(appbuilder, endpoint=endpoint, static_folder=static_folder)
        blueprint.register_error_handler(429, _too_many)  # before Flask registers it
        return blueprint

    @expose("/discovery.<fmt>")
    def discovery(self, fmt: str):
        def build():
            url = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") + self.route_base
            endpoint = {
                "specification": shapes.SPECIFICATION,
                "url": url,
                "changeset": "2026-12-03T00:00:00+08:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
            value = {
                "changeset": "2026-12-03T00:00:00+08:00",
                "contact": gettext("The supervisor's office of the platform"),
                "key_service": gettext("API keys are issued by the platform's administrator."),
                "endpoints": [endpoint],
            }
            return "discovery", value, 200

        return _respond(fmt, build)

    @expose("/services.<fmt>")
    def services(self, fmt: str):
        return _respond(fmt, lambda: ("services", service.list_services(db.session), 200))

    @expose("/services/<service_code>.<fmt>")
    def service_definition(self, service_code: str, fmt: str):
        return _respond(
            fmt, lambda: ("service_definition", service.service_definition(db.session, service_code), 200)
        )

    @expose("/requests.<fmt>", methods=["GET", "POST"])
    def requests(self, fmt: str):
        def build():
            if request.method == "POST":
                actor = _filer(request.form.get("api_key") or _bearer())
                answer = service.file_request(db.session, actor=actor, now=clock.utcnow(), form=request.form)
                return "service_requests", [answer], 201
            found = service.find_requests(db.session, request.args, viewer=_reader(), now=clock.utcnow())
            return "service_requests", found, 200

        return _respond(fmt, build)

    @expose("/requests/<service_request_id>.<fmt>")
    def request_by_id(self, service_request_id: str, fmt: str):
        return _respond(
            fmt,
            lambda: (
                "service_requests",
                [service.get_request(db.session, service_request_id, viewer=_reader())],
                200,
            ),
        )

    @expose("/tokens/<token>.<fmt>")
    def token(self, token: str, fmt: str):
        return _respond(
            fmt, lambda: ("service_requests", [service.request_for_token(db.session, token)], 200)
        )

    @expose("/", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @expose("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown(self, anything: str = ""):
        """Any other address or method under /open311/v2: the spec's error body, not a page."""
        fmt = "xml" if anything.endswith(".xml") else "json"
        try:
            endpoint, _ = current_app.url_map.bind_to_environ(request.environ).match(method="GET")
        except HTTPException:
            endpoint = None
        if request.method != "GET" and endpoint not in (None, f"{type(self).__name__}.unknown"):
            return _error(fmt, 405, gettext("This address cannot be used this way."))
        return _error(fmt, 404, gettext("There is no such Open311 resource."))


def _too_many(error):
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return _error(fmt, 429, gettext("Too many requests; please wait a while and try again."))


def _offered_key() -> str | None:
    """The API key a request carries where a key is accepted (a POST's form, the header)."""
    return (request.form.get("api_key") if request.method == "POST" else None) or _bearer()


def _valid_key_hash() -> str | None:
    """The lookup hash of the request's valid API key, or None (no key, or a wrong one); worked
    out once a request. The limiter keys a key's budget by it, never by the key itself."""
    if "open311_key_hash" not in g:
        key, sm = _offered_key(), current_app.appbuilder.sm
        valid = bool(key) and sm.validate_api_key(key) is not None
        g.open311_key_hash = sm._compute_lookup_hash(key) if valid else None
    return g.open311_key_hash


def _with_valid_key() -> bool:
    """A connected system with a valid key is limited by its own budget (a 12345 platform files
    a dozen cases a second at its peaks), not per address; anyone else, a wrong key included,
    is limited per address."""
    return _valid_key_hash() is not None


def register(appbuilder) -> None:
    """Add the view and its rate limits (the public pages' limiter): one budget per address for
    the whole API, and one per valid API key instead for the connected systems."""
    appbuilder.add_view_no_menu(Open311View)
    blueprint = next(v.blueprint for v in appbuilder.baseviews if isinstance(v, Open311View))
    limiter = appbuilder.sm.limiter
    limiter.shared_limit(
        lambda: current_app.config.get("OPEN311_RATE_LIMIT", DEFAULT_RATE_LIMIT),
        scope="open311",
        exempt_when=_with_valid_key,
    )(blueprint)
    limiter.shared_limit(
        lambda: current_app.config.get("OPEN311_KEY_RATE_LIMIT", DEFAULT_KEY_RATE_LIMIT),
        scope="open311-key",
        key_func=lambda: f"key:{_valid_key_hash()}",
        exempt_when=lambda: not _with_valid_key(),
    )(blueprint)
