"""Typed request fields: what an amount, a whole number and a piece of text are.

Every request model (HTTP bodies, files read by the CLI) uses these, so one rule refuses a
bad value everywhere and names itself: the pydantic error ``type`` is the rule's code.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt, StrictStr, WithJsonSchema
from pydantic_core import PydanticCustomError

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


def _plain(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise PydanticCustomError(
            "text_control_character", "must not contain control characters (NUL, tab, ...)"
        )
    return value


#: A positive yuan amount, parsed to integer fen (at most ``MAX_FEN``).
AmountFen = Annotated[int, BeforeValidator(_positive_amount_fen), _AMOUNT_SCHEMA]
#: A JSON integer: ``true``, ``3.0`` and ``"3"`` are refused.
WholeNumber = StrictInt
#: Text without control characters; bound its length where it is used.
PlainText = Annotated[
    StrictStr,
    AfterValidator(_plain),
    Field(json_schema_extra={"pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"}),
]
#: An account, application or other reference as a client sends it.
Ref = Annotated[PlainText, Field(min_length=1, max_length=64)]

__all__ = ["AmountFen", "PlainText", "Ref", "WholeNumber"]
