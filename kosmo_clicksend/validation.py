"""Validate tool arguments against their JSON Schema before any request is made.

Arguments arrive from Lua or from the CLI. ``coerce`` first fixes what Lua cannot express
(an empty table where the schema wants an array, ``30/2`` where it wants an integer); then
``validate_arguments`` reports every failing field at once, each as one line that names its path
(1-based array indexes, as in Lua: ``messages[2].body``), the value and what is expected.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from .dates import ACCEPTED_DATE_FORMS, is_date_value
from .errors import ArgumentError
from .phones import normalize_number
from .specs import ToolSpec

__all__ = ["coerce", "format_path", "validate_arguments", "validator_for"]

_FORMAT_CHECKER = FormatChecker(formats=())
_FORMAT_CHECKER.checks("clicksend-date")(is_date_value)


@_FORMAT_CHECKER.checks("phone", raises=ValueError)
def _is_international_number(value: object) -> bool:
    # Only numbers with a country code can be judged here; local ones need the account's country,
    # which the tools look up before sending.
    if isinstance(value, str) and value.strip().startswith(("+", "00")):
        normalize_number(value, None)
    return True


@_FORMAT_CHECKER.checks("email", raises=EmailNotValidError)
def _is_email_address(value: object) -> bool:
    # Syntax only: no DNS look-up, so validation never touches the network.
    if isinstance(value, str):
        validate_email(value, check_deliverability=False)
    return True

_VALIDATORS: dict[str, Draft202012Validator] = {}


def validator_for(spec: ToolSpec) -> Draft202012Validator:
    """Return the cached Draft 2020-12 validator of a tool's parameter schema."""
    validator = _VALIDATORS.get(spec.name)
    if validator is None:
        validator = Draft202012Validator(dict(spec.parameters), format_checker=_FORMAT_CHECKER)
        _VALIDATORS[spec.name] = validator
    return validator


def _schema_types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    types: set[str] = set()
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key, ()):
            types |= _schema_types(branch)
    return types


def coerce(value: Any, schema: Mapping[str, Any]) -> Any:
    """Return ``value`` adjusted to the schema's types where Lua could not say it exactly.

    An empty dict becomes an empty list where an array is allowed but an object is not; a float
    with no fractional part becomes an int where an integer is allowed but a number is not.
    Anything else is returned unchanged, for the validator to judge.
    """
    types = _schema_types(schema)
    if isinstance(value, dict):
        if not value and "array" in types and "object" not in types:
            return []
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            return {key: coerce(item, properties[key]) if key in properties else item for key, item in value.items()}
        branch = _branch_for(value, schema, "object")
        return coerce(value, branch) if branch is not None else value
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            return [coerce(item, items) for item in value]
        branch = _branch_for(value, schema, "array")
        return coerce(value, branch) if branch is not None else value
    if isinstance(value, float) and "integer" in types and "number" not in types:
        if math.isfinite(value) and value.is_integer():
            return int(value)
    return value


def _branch_for(value: Any, schema: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key, ()):
            if kind in _schema_types(branch):
                return branch
    return None


def format_path(parts: Iterable[str | int]) -> str:
    """Render a JSON path with 1-based array indexes, as a Lua script counts them."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(arguments)"


def describe_value(value: Any, limit: int = 60) -> str:
    """Render a value for an error message: short, JSON-like, strings in single quotes."""
    if isinstance(value, str):
        shown = value if len(value) <= limit else value[:limit] + "..."
        return repr(shown)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nil"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


_LUA_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list (a Lua sequence such as {a, b})",
    "object": "a table of named fields",
    "null": "nil",
}


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction" if math.isfinite(value) else "a non-finite number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table of named fields"
    return type(value).__name__


def _example(schema: Mapping[str, Any]) -> str:
    examples = schema.get("examples")
    if examples:
        return f", such as {describe_value(examples[0])}"
    return ""


def _expected_types(schema: Mapping[str, Any]) -> str:
    names = [_LUA_TYPE_NAMES.get(name, name) for name in sorted(_schema_types(schema))]
    return " or ".join(names) if names else "another value"


def _problems_for(error: ValidationError) -> list[tuple[list[str | int], str]]:
    """Turn one jsonschema error into (path, message) pairs; paths are 0-based until rendered."""
    path = list(error.absolute_path)
    where = format_path(path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance
    keyword = error.validator

    if keyword == "required":
        missing = [name for name in error.validator_value if isinstance(instance, dict) and name not in instance]
        properties = schema.get("properties", {})
        return [
            (
                path + [name],
                f"{format_path(path + [name])} is missing; add {name}{_about(properties.get(name, {}))}"
                f"{_example(properties.get(name, {}))}",
            )
            for name in missing
        ]
    if keyword == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        extras = sorted(set(instance) - set(known)) if isinstance(instance, dict) else []
        out = []
        for name in extras:
            close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else f"known fields: {', '.join(known) or 'none'}"
            out.append((path + [name], f"{format_path(path + [name])} is not a known field; {hint}"))
        return out
    if keyword in ("anyOf", "oneOf") and _all_required_branches(error.validator_value):
        names = [branch["required"][0] for branch in error.validator_value]
        first = format_path(path + [names[0]])
        others = " or ".join(names[1:])
        return [(path + [names[0]], f"{first} is missing; give {names[0]} or {others}")]
    if keyword in ("anyOf", "oneOf"):
        # Report what failed inside the branches whose type fits the value, such as a bad address
        # inside a list of recipients; fall back to the union's description.
        deeper = [sub for sub in error.context or [] if not (sub.validator == "type" and not sub.relative_path)]
        if deeper:
            return [problem for sub in deeper for problem in _problems_for(sub)]
        return [(path, f"{where} {describe_value(instance)} is not valid; expected {_describe_union(schema)}")]
    if keyword == "type":
        return [
            (path, f"{where} {describe_value(instance)} is {_kind_of(instance)}; expected {_expected_types(schema)}{_example(schema)}")
        ]
    if keyword == "enum":
        allowed = ", ".join(describe_value(item) for item in error.validator_value)
        return [(path, f"{where} {describe_value(instance)} is not allowed; use one of {allowed}")]
    if keyword == "not" and isinstance(error.validator_value, Mapping) and set(error.validator_value) == {"required"}:
        names = list(error.validator_value["required"])
        return [(path, f"{where} gives both {' and '.join(names)}; keep one of them")]
    if keyword == "const":
        return [(path, f"{where} {describe_value(instance)} is not allowed here; use {describe_value(error.validator_value)}{_about(schema)}")]
    if keyword == "format" and error.validator_value == "phone":
        reason = str(error.cause) if error.cause else "it is not a phone number"
        return [(path, f"{where} {describe_value(instance)} is not a valid phone number: {reason}")]
    if keyword == "format" and error.validator_value == "email":
        reason = str(error.cause).rstrip(".") if error.cause else "it is not an email address"
        return [(path, f"{where} {describe_value(instance)} is not a valid email address: {reason}")]
    if keyword == "format" and error.validator_value == "clicksend-date":
        return [(path, f"{where} {describe_value(instance)} is not a date; use {ACCEPTED_DATE_FORMS}")]
    if keyword == "minimum":
        return [(path, f"{where} {describe_value(instance)} is below the minimum of {error.validator_value}")]
    if keyword == "maximum":
        return [(path, f"{where} {describe_value(instance)} is above the maximum of {error.validator_value}")]
    if keyword == "minLength":
        if error.validator_value == 1:
            return [(path, f"{where} is empty; give a value{_about(schema)}{_example(schema)}")]
        return [(path, f"{where} {describe_value(instance)} is shorter than {error.validator_value} characters")]
    if keyword == "maxLength":
        return [(path, f"{where} is longer than {error.validator_value} characters")]
    if keyword == "minItems":
        return [(path, f"{where} is empty; give at least {error.validator_value} item")]
    if keyword == "maxItems":
        return [
            (
                path,
                f"{where} has {len(instance)} items, more than {error.validator_value} per call; "
                "split them over several calls",
            )
        ]
    if keyword == "pattern":
        return [(path, f"{where} {describe_value(instance)} has the wrong form{_about(schema, ': expected ')}{_example(schema)}")]
    return [(path, f"{where} {describe_value(instance)} is not valid: {error.message}")]


def _all_required_branches(branches: Any) -> bool:
    return isinstance(branches, list) and bool(branches) and all(
        isinstance(branch, Mapping) and set(branch) == {"required"} and len(branch["required"]) == 1
        for branch in branches
    )


def _describe_union(schema: Mapping[str, Any]) -> str:
    description = schema.get("description")
    return str(description).rstrip(".") if description else _expected_types(schema)


def _about(schema: Mapping[str, Any], lead: str = " ") -> str:
    """Return the field's description in brackets (or after ``lead`` when it is not a space)."""
    description = str(schema.get("description", "")).split(". ")[0].rstrip(".")
    if not description:
        return ""
    return f" ({description})" if lead == " " else f"{lead}{description}"


def _sort_key(item: tuple[list[str | int], str]) -> tuple[Any, ...]:
    path, message = item
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in path) + ((2, 0, message),)


def validate_arguments(spec: ToolSpec, arguments: Any) -> dict[str, Any]:
    """Return the coerced arguments, or raise ArgumentError listing every failing field.

    Nothing is sent by this function; callers run it before any request.
    """
    if arguments is None:
        arguments = {}
    if isinstance(arguments, list) and not arguments:
        arguments = {}
    if not isinstance(arguments, dict):
        raise ArgumentError(
            spec.name,
            [f"arguments {describe_value(arguments)} are {_kind_of(arguments)}; pass a table of named fields such as {{messages = {{...}}}}"],
        )
    coerced = coerce(arguments, spec.parameters)
    found: list[tuple[list[str | int], str]] = []
    for error in validator_for(spec).iter_errors(coerced):
        found.extend(_problems_for(error))
    if found:
        unique: dict[str, tuple[list[str | int], str]] = {}
        for path, message in found:
            unique.setdefault(message, (path, message))
        ordered = sorted(unique.values(), key=_sort_key)
        raise ArgumentError(spec.name, [message for _, message in ordered])
    return coerced
