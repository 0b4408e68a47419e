"""The shape of the code the rules rely on (ARCHITECTURE.md): one place commits."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_only_the_unit_of_work_commits_or_rolls_back():
    """Views, APIs, jobs, services and reports never end a transaction themselves: the request
    boundary and unit_of_work (app/transaction.py) do, then run the after-commit callbacks."""
    offenders = []
    for folder in ("app", "views", "jobs", "reports", "models"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "transaction.py" or "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r"\.(commit|rollback)\(\)", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_every_message_template_has_a_label_in_the_outbox():
    """The outbox shows each message's template by a translated name, never by its key."""
    from app.services.notifications import TEMPLATES
    from views.supervision import OUTBOX_LABELS

    assert set(TEMPLATES) - set(OUTBOX_LABELS) == set()
