"""Column helpers shared by the models."""

from sqlalchemy import Enum


def enum_column_type(enum_cls, length: int = 24) -> Enum:
    """Store a StrEnum by its value as a VARCHAR with a CHECK (portable across databases)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        name=f"ck_{enum_cls.__name__.lower()}",
        validate_strings=True,
    )
