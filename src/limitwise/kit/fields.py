"""Typed request fields: what an amount, a whole number and a piece of text are.

Every request model (HTTP bodies, files read by the CLI) uses these, so one rule refuses a
bad value everywhere and names itself: the pydantic error ``type`` is the rule's code.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from limitwise.kit.errors import InvalidInput
from limitwise.kit.money import FEN_PER_YUAN, MAX_FEN, format_yuan, parse_amount_fen

#: C0 and C1 control characters (NUL, escape, DEL, ...): never part of a name, ref or note.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


#: What an amount looks like; the limits a pattern cannot say are refused by rule.
_AMOUNT_SCHEMA = WithJsonSchema(
    {
        "description": "Yuan as a plain decimal string with at most two places, e.g. "
        '"1000.00", or a whole number of yuan; at most ' + format_yuan(MAX_FEN),
        "anyOf": [
            {"type": "string", "pattern": r"^ *[0-9]+(\.[0-9]{1,2})? *$"},
            {"type": "integer", "minimum": 1, "maximum": MAX_FEN // FEN_PER_YUAN},
        ],
        "examples": ["1000.00"],
    }
)


def _positive_amount_fen(value: object) -> int:
    try:
        return parse_amount_fen(value, field="")
    except InvalidInput as exc:
        raise PydanticCustomError(exc.code, exc.message) from None


class _NoControlCharacters:
    """Refuse C0/C1 control characters (after any length bounds, so theirs stay clear)."""

    PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), "pattern": self.PATTERN}

    @staticmethod
    def _check(value: str) -> str:
        if CONTROL_CHARACTERS.search(value):
            raise PydanticCustomError(
                "text_control_character", "must not contain control characters (NUL, tab, ...)"
            )
        return value


#: Put after a text type's bounds: ``Annotated[StrictStr, Field(max_length=80), NoControl]``.
NoControl = _NoControlCharacters()
#: A positive yuan amount, parsed to integer fen (at most ``MAX_FEN``).
AmountFen = Annotated[int, BeforeValidator(_positive_amount_fen), _AMOUNT_SCHEMA]
#: A JSON integer: ``true``, ``3.0`` and ``"3"`` are refused.
WholeNumber = StrictInt
#: A positive amount of money as a JSON integer of fen (分, 1/100 yuan): the API's one
#: money convention, in requests and responses, top level and nested.
PositiveFen = Annotated[
    StrictInt,
    Field(ge=1, le=MAX_FEN, description="Fen (1/100 yuan) as an integer", examples=[100000]),
]
#: An account, application or other reference as a client sends it.
Ref = Annotated[StrictStr, Field(min_length=1, max_length=64), NoControl]

__all__ = ["AmountFen", "NoControl", "PositiveFen", "Ref", "WholeNumber"]
