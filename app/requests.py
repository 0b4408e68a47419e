"""The request class: NUL characters are removed from every submitted value.

A browser or a script can send U+0000 in any field; PostgreSQL cannot store it in text and the
insert fails, which would lose a reporter's whole submission to a server error. The character
carries no meaning in text, so it is dropped from query strings and form fields as they are
parsed (JSON bodies: views/api_guard.py).
"""

from __future__ import annotations

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items


def without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class _NulFreeMultiDict(ImmutableMultiDict):
    def __init__(self, mapping=None):
        if mapping is not None:
            mapping = [(without_nul(k), without_nul(v)) for k, v in iter_multi_items(mapping)]
        super().__init__(mapping)


class CleanRequest(Request):
    parameter_storage_class = _NulFreeMultiDict
