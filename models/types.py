"""Column helpers shared by the models."""

from sqlalchemy import Enum


def enum_column_type(enum_cls, length: int = 24) -> Enum:
    """Store a StrEnum by its value as a VARCHAR with a CHECK (portable across databases).

    Flask-AppBuilder looks enum members up by the stored value, so each value is also made an
    alias of its member (``Status.__members__["closed"] is Status.CLOSED``). Unknown strings in
    a filter simply match nothing; the CHECK constraint keeps them out of the table.
    """
    for member in enum_cls:
        enum_cls._member_map_.setdefault(member.value, member)
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        name=f"ck_{enum_cls.__name__.lower()}",
        validate_strings=False,
    )
