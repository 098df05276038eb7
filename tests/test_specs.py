"""The registry: names, descriptions and schemas of the ten tools."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from kosmo_clicksend.specs import REGISTRY

EXPECTED = [
    ("clicksend_get_account_balance", "get_account_balance", "read", set(), set()),
    ("clicksend_get_email_history", "get_email_history", "read", {"limit", "page"}, set()),
    ("clicksend_get_sms_history", "get_sms_history", "read", {"date_from", "date_to", "limit", "page"}, set()),
    ("clicksend_get_sms_price", "get_sms_price", "read", {"messages"}, {"messages"}),
    ("clicksend_get_voice_history", "get_voice_history", "read", {"limit", "page"}, set()),
    ("clicksend_list_contact_lists", "list_contact_lists", "read", {"limit", "page"}, set()),
    ("clicksend_send_email", "email", "write", {"to", "subject", "body", "from_email_address", "from_name"}, {"to", "subject", "body"}),
    ("clicksend_send_post_letter", "post_letter", "write", {"file_url", "template_id", "recipients", "duplex"}, {"recipients"}),
    ("clicksend_send_sms", "sms", "write", {"messages"}, {"messages"}),
    ("clicksend_send_voice", "voice", "write", {"messages"}, {"messages"}),
]


def test_registry_has_ten_tools_sorted_by_name():
    assert [spec.name for spec in REGISTRY] == [row[0] for row in EXPECTED]


@pytest.mark.parametrize(("name", "short", "operation", "params", "required"), EXPECTED)
def test_spec_names_operation_and_parameters(name, short, operation, params, required):
    spec = REGISTRY.get(name)
    assert spec is not None
    assert spec.short_name == short
    assert REGISTRY.get(short) is spec
    assert spec.full_name == f"clicksend.{name}"
    assert spec.operation == operation
    assert params <= set(spec.properties)
    assert required <= set(spec.required)


@pytest.mark.parametrize("spec", list(REGISTRY), ids=lambda spec: spec.name)
def test_spec_schema_is_valid_draft_2020_12(spec):
    Draft202012Validator.check_schema(dict(spec.parameters))


def _objects(schema):
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            yield schema
        for value in schema.values():
            yield from _objects(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _objects(item)


@pytest.mark.parametrize("spec", list(REGISTRY), ids=lambda spec: spec.name)
def test_spec_rejects_unknown_fields_at_every_level(spec):
    for schema in _objects(dict(spec.parameters)):
        assert schema.get("additionalProperties") is False


@pytest.mark.parametrize("spec", list(REGISTRY), ids=lambda spec: spec.name)
def test_spec_description_is_whole(spec):
    assert spec.description.endswith(".")
    assert not spec.description.endswith("..")
    assert spec.description.count("`") % 2 == 0


def test_sms_description_names_to_and_body():
    description = REGISTRY.get("sms").description
    assert "`to` phone number" in description
    assert "`body` text" in description


def test_sms_item_schema_lists_clicksend_optional_fields():
    item = REGISTRY.get("sms").properties["messages"]["items"]["properties"]
    assert {"to", "body", "from", "source", "schedule", "custom_string", "list_id", "country", "from_email"} <= set(item)


@pytest.mark.parametrize("name", ["clicksend_get_email_history", "clicksend_get_sms_history", "clicksend_list_contact_lists"])
def test_paging_bounds(name):
    props = REGISTRY.get(name).properties
    assert props["page"]["minimum"] == 1
    assert props["limit"]["minimum"] == 1
    assert props["limit"]["maximum"] == 100


@pytest.mark.parametrize("name", ["sms", "get_sms_price", "voice"])
def test_messages_capped_at_10000(name):
    assert REGISTRY.get(name).properties["messages"]["maxItems"] == 10_000


def test_suggest_finds_close_and_shared_word_names():
    assert "sms" in REGISTRY.suggest("smss")
    assert REGISTRY.suggest("send_fax")
    assert REGISTRY.suggest("zzz") == []
