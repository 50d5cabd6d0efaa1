"""A mypy plugin for one known gap in SQLModel's typing, configured once in pyproject.toml.

On a table model, `Delivery.status` is a column at class level but is declared as `str` (the
instance's type), so every query reads to mypy as nonsense: `Delivery.status == "sent"` is a
`bool` passed to `where()`, `Delivery.day.desc()` has no `desc`. Typing class-level attribute
access on SQLModel classes as `Any` removes exactly that noise; the instance attributes, where
the real mistakes hide (`delivery.status`, `subscriber.phone`), keep their declared types.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import TypeInfo
from mypy.plugin import AttributeContext, Plugin
from mypy.types import AnyType, Type, TypeOfAny

SQLMODEL = "sqlmodel.main.SQLModel"


def _column_expression(context: AttributeContext) -> Type:
    return AnyType(TypeOfAny.special_form)


class SQLModelColumns(Plugin):
    def get_class_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        owner, _, _attribute = fullname.rpartition(".")
        found = self.lookup_fully_qualified(owner)
        # Every SQLModel subclass, not only table=True ones: the class keyword is gone once mypy
        # reads a module from its cache, and no code reads an input model's fields off the class.
        if found is not None and isinstance(found.node, TypeInfo) and found.node.has_base(SQLMODEL):
            return _column_expression
        return None


def plugin(_version: str) -> type[Plugin]:
    return SQLModelColumns
