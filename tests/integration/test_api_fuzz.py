"""schemathesis against the platform's own OpenAPI document: whatever a client sends to any
documented operation (valid, odd or malformed), the answer is never a server error.

The fuzzer creates, edits and deletes reference data and users at random, so it runs on a
throwaway database of its own (a second SQLite file, or a second PostgreSQL database next to
TEST_DATABASE_URL), never on the one the other tests share.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conftest import _reset_database, throwaway_database_url
from tests.conftest import api_token as conftest_api_token


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    from app.cli import init_database
    from app.demo import load_org
    from app.extensions import db
    from app.factory import create_app

    url = throwaway_database_url(tmp_path_factory, "fuzz")
    _reset_database(url)
    application = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": True,
            "SERVER_NAME": "localhost",
            "ENQUEUE_AFTER_COMMIT": False,
            "LOGIN_RATE_LIMIT": "100000 per hour",
            "FILING_RATE_LIMIT": "100000 per hour",
            "TRACKING_RATE_LIMIT": "100000 per hour",
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("fuzz_up")),
            "REPORT_DIR": str(tmp_path_factory.mktemp("fuzz_reports")),
        }
    )
    with application.app_context():
        init_database()
        load_org(db.session)
        db.session.commit()
    yield application
    with application.app_context():
        db.engine.dispose()


def _token(app, username: str) -> dict:
    return {"Authorization": f"Bearer {conftest_api_token(app.test_client(), username)}"}


@pytest.fixture(scope="module")
def admin_headers(fuzz_app):
    return _token(fuzz_app, "admin")


@pytest.fixture(scope="module")
def api_schema(fuzz_app, admin_headers):
    return schemathesis.openapi.from_wsgi("/api/v1/_openapi", fuzz_app, headers=admin_headers)


@pytest.mark.parametrize(
    "examples",
    [
        pytest.param(10, id="quick"),
        pytest.param(100, id="deep", marks=pytest.mark.slow),  # make test-slow
    ],
)
def test_no_documented_operation_answers_a_server_error(api_schema, admin_headers, examples):
    # Hypothesis drives each operation's strategy directly (schemathesis' pytest plugin does
    # not support pytest 9 yet); derandomized, so a run is repeatable.
    failures: dict[str, str] = {}  # the first failing example of each operation
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:
        _fuzz(operation, admin_headers, examples, failures)
    assert len(operations) >= 50, f"only {len(operations)} operations documented"
    assert not failures, "\n".join(failures.values())


def _fuzz(operation, headers: dict, examples: int, failures: dict[str, str]) -> None:
    label = operation.label

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.setdefault(
                label, f"{label} → {response.status_code}: {response.text[:200]}\n  {case.as_curl_command()}"
            )

    call()
