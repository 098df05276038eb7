"""Render the Lua reference (``lua_read_doc``) from the tool specs.

Pages:

- ``integrations.clicksend``: every function with its description, operation, names,
  parameter table and a runnable example, then how to use several accounts;
- ``integrations.clicksend.<function>`` (short or tool name), optionally behind an account:
  ``integrations.clicksend.<account>.<function>``;
- ``integrations.clicksend.<account>``: the functions of one configured account.

A leading ``app.`` is accepted; an unknown page returns the list of pages. The output depends
only on the specs and the account aliases passed in, so a render is byte-stable; the namespace
page does not depend on the accounts at all and is committed as ``lua_docs/clicksend.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .specs import NAMESPACE, REGISTRY, Registry, ToolSpec

__all__ = ["NAMESPACE_PAGE", "find_page", "lua_example", "lua_literal", "page_names", "read_doc", "signature"]

NAMESPACE_PAGE = f"integrations.{NAMESPACE}"
_ROOT = f"app.{NAMESPACE_PAGE}"
_TITLE = "ClickSend: SMS, voice calls, email, post letters, message history, prices, balance and contact lists"


def signature(spec: ToolSpec, prefix: str = _ROOT) -> str:
    """Return ``app.integrations.clicksend.sms({messages})``, optional parameters marked with ``?``."""
    names = [name if name in spec.required else f"{name}?" for name in spec.properties]
    return f"{prefix}.{spec.short_name}({{{', '.join(names)}}})"


def _type_name(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    if declared is None:
        branches = schema.get("anyOf") or schema.get("oneOf") or []
        names = []
        for branch in branches:
            name = _type_name(branch)
            if name not in names:
                names.append(name)
        return " | ".join(names) or "any"
    kinds = [declared] if isinstance(declared, str) else list(declared)
    out = []
    for kind in kinds:
        if kind == "array":
            items = schema.get("items", {})
            item_name = "tables" if items.get("type") == "object" else _type_name(items)
            out.append(f"list of ({item_name})" if " | " in item_name else f"list of {item_name}")
        elif kind == "object":
            out.append("table")
        else:
            out.append(kind)
    return " | ".join(out)


def _constraints(schema: Mapping[str, Any]) -> str:
    notes = []
    if "enum" in schema and schema.get("type") == "string":
        notes.append("Values: " + ", ".join(f"`{value}`" for value in schema["enum"]))
    if "default" in schema:
        notes.append(f"Default: `{schema['default']}`")
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        notes.append(f"Range: {low} to {high}")
    elif low is not None:
        notes.append(f"At least {low}")
    if schema.get("maxItems"):
        notes.append(f"At most {schema['maxItems']} items")
    return " ".join(note + "." for note in notes)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _required_text(schema: Mapping[str, Any], name: str) -> str:
    if name in schema.get("required", ()):
        return "yes"
    alternatives = []
    for group in [schema.get("anyOf", [])] + [part.get("anyOf", []) for part in schema.get("allOf", [])]:
        names = [branch["required"][0] for branch in group if "required" in branch]
        if name in names:
            alternatives = [other for other in names if other != name]
    if alternatives:
        return f"yes, unless {' or '.join(alternatives)} is given"
    return "no"


def _rows(schema: Mapping[str, Any], prefix: str = "") -> list[str]:
    rows = []
    for name, prop in schema.get("properties", {}).items():
        label = f"{prefix}{name}"
        description = str(prop.get("description", ""))
        extra = _constraints(prop)
        text = f"{description} {extra}".strip()
        rows.append(f"| `{label}` | {_cell(_type_name(prop))} | {_required_text(schema, name)} | {_cell(text)} |")
        items = prop.get("items")
        if isinstance(items, Mapping) and items.get("type") == "object":
            rows.extend(_rows(items, f"{label}[]."))
    return rows


def parameter_table(spec: ToolSpec) -> str:
    """Return the Markdown parameter table of a tool, with one row per nested item field."""
    if not spec.properties:
        return "*No parameters.*"
    header = ["| Parameter | Type | Required | Description |", "| --- | --- | --- | --- |"]
    return "\n".join(header + _rows(spec.parameters))


def _is_identifier(key: str) -> bool:
    return key.isidentifier() and key not in _LUA_KEYWORDS


_LUA_KEYWORDS = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
    "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}


def lua_literal(value: Any, indent: str = "") -> str:
    """Render JSON-like data as a Lua table constructor, with commas after every field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nil"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    inner = indent + "  "
    if isinstance(value, Sequence):
        if all(not isinstance(item, (Mapping, Sequence)) or isinstance(item, str) for item in value):
            return "{ " + ", ".join(lua_literal(item) for item in value) + " }"
        return "{\n" + "".join(f"{inner}{lua_literal(item, inner)},\n" for item in value) + indent + "}"
    if isinstance(value, Mapping):
        fields = []
        for key, item in value.items():
            label = key if _is_identifier(key) else f"[{json.dumps(key)}]"
            fields.append(f"{label} = {lua_literal(item, inner)}")
        if not fields:
            return "{}"
        flat = "{ " + ", ".join(fields) + " }"
        if len(flat) <= 72 and "\n" not in flat:
            return flat
        return "{\n" + "".join(f"{inner}{field},\n" for field in fields) + indent + "}"
    raise TypeError(f"cannot render {type(value).__name__} as Lua")


def example_arguments(spec: ToolSpec) -> dict[str, Any]:
    """Return example arguments: the required parameters, or every parameter when none is required."""
    names = list(spec.required) or list(spec.properties)
    return {name: spec.properties[name]["examples"][0] for name in names if spec.properties[name].get("examples")}


def lua_example(spec: ToolSpec, prefix: str = _ROOT) -> str:
    """Return a runnable Lua example of one tool, built from the examples in its schema."""
    arguments = example_arguments(spec)
    call = f"{prefix}.{spec.short_name}({lua_literal(arguments)})"
    if spec.name == "clicksend_get_account_balance":
        shown = "result.balance, result.currency"
    elif "messages" in spec.properties or "recipients" in spec.properties:
        shown = "result.response_code, #result.refused"
    elif spec.method == "GET":
        shown = "result.response_code, result.data.total"
    else:
        shown = "result.response_code"
    return f"local result = {call}\nprint({shown})"


def _function_section(spec: ToolSpec, level: str, prefix: str = _ROOT) -> list[str]:
    return [
        f"{level} {signature(spec, prefix)}",
        "",
        spec.description,
        "",
        f"- Operation: {spec.operation}",
        f"- Full name: `{spec.full_name}`",
        f"- Also callable as: `{prefix}.{spec.name}`",
        "",
        parameter_table(spec),
        "",
        "```lua",
        lua_example(spec, prefix),
        "```",
        "",
    ]


def _namespace_page(registry: Registry) -> str:
    lines = [
        f"# {_ROOT} — {_TITLE}",
        "",
        f"Call a function as `{_ROOT}.<function>({{...}})`; `fn{{...}}` works too. Each function also "
        "answers to its tool name (`clicksend_send_sms` for `sms`). A call returns ClickSend's JSON answer as "
        "a table (`http_code`, `response_code`, `response_msg`, `data`; lists start at 1). A failure raises "
        "a Lua error whose message starts with the tool name; catch it with `pcall`. Arguments are checked "
        "before anything is sent, and paths in error messages count list items from 1, as Lua does.",
        "",
    ]
    for spec in registry:
        lines.extend(_function_section(spec, "##"))
    lines.extend(
        [
            "## Multiple accounts",
            "",
            f"`{_ROOT}.<function>` and `{_ROOT}.default.<function>` use the default account. Every "
            f"account configured as `[accounts.<alias>]` has its own namespace `{_ROOT}.<alias>`, with the "
            "same functions and that account's credentials:",
            "",
            "```lua",
            f"local main = {_ROOT}.default.get_account_balance({{}})",
            f"local same = {_ROOT}.get_account_balance({{}})",
            "print(main.balance == same.balance)",
            "```",
            "",
            f"Read `lua_read_doc(\"{NAMESPACE_PAGE}.<alias>\")` for the functions of one account.",
            "",
        ]
    )
    return "\n".join(lines)


def _account_page(registry: Registry, alias: str) -> str:
    prefix = f"{_ROOT}.{alias}"
    lines = [f"# {prefix} — ClickSend account '{alias}'", "", f"Every function of `{_ROOT}`, run with the credentials of account '{alias}'.", ""]
    for spec in registry:
        lines.extend(_function_section(spec, "##", prefix))
    return "\n".join(lines)


def _function_page(spec: ToolSpec, prefix: str) -> str:
    lines = _function_section(spec, "#", prefix)
    lines.insert(-1, f"*(Maps to tool: `{spec.name}`)*")
    lines.append("")
    return "\n".join(lines[:-1])


def page_names(aliases: Sequence[str] = (), registry: Registry = REGISTRY) -> list[str]:
    """Return every page name lua_read_doc accepts (short names for functions)."""
    names = [NAMESPACE_PAGE]
    names += [f"{NAMESPACE_PAGE}.{spec.short_name}" for spec in registry]
    names += [f"{NAMESPACE_PAGE}.{alias}" for alias in ["default", *[a for a in aliases if a != "default"]]]
    return names


def find_page(page: str, aliases: Sequence[str] = (), registry: Registry = REGISTRY) -> str | None:
    """Return the canonical name of a page, or None when there is no such page.

    Accepted forms: ``integrations.clicksend[.<account>][.<function>]`` with or without a leading
    ``app.``, the tool's full name (``clicksend.clicksend_send_sms``), and a bare function name.
    """
    name = page.strip()
    if name.startswith("app."):
        name = name[4:]
    accounts = ["default", *[alias for alias in aliases if alias != "default"]]
    candidates = [name, f"integrations.{name}", f"{NAMESPACE_PAGE}.{name}"]
    for candidate in candidates:
        if candidate == NAMESPACE_PAGE:
            return candidate
        if not candidate.startswith(NAMESPACE_PAGE + "."):
            continue
        parts = candidate[len(NAMESPACE_PAGE) + 1 :].split(".")
        if len(parts) == 1 and (registry.get(parts[0]) is not None or parts[0] in accounts):
            return candidate
        if len(parts) == 2 and parts[0] in accounts and registry.get(parts[1]) is not None:
            return candidate
    return None


def read_doc(page: str, aliases: Sequence[str] = (), registry: Registry = REGISTRY) -> str:
    """Return a page of the Lua reference; an unknown page returns the list of pages."""
    name = find_page(page, aliases, registry)
    if name is None:
        listing = "\n".join(f"- {item}" for item in page_names(aliases, registry))
        return f"Page '{page}' not found. Available pages:\n\n{listing}\n"
    if name == NAMESPACE_PAGE:
        return _namespace_page(registry)
    parts = name[len(NAMESPACE_PAGE) + 1 :].split(".")
    if len(parts) == 2:
        spec = registry.get(parts[1])
        assert spec is not None
        return _function_page(spec, f"{_ROOT}.{parts[0]}")
    spec = registry.get(parts[0])
    if spec is not None:
        return _function_page(spec, _ROOT)
    return _account_page(registry, parts[0])
