"""Argument validation and conversion, before any request."""

from __future__ import annotations

import pytest

from kosmo_clicksend.dates import resolve_time_zone, to_unix_seconds
from kosmo_clicksend.errors import ArgumentError
from kosmo_clicksend.specs import REGISTRY
from kosmo_clicksend.validation import validate_arguments


def problems(name, arguments):
    with pytest.raises(ArgumentError) as caught:
        validate_arguments(REGISTRY.get(name), arguments)
    return caught.value


def test_missing_body_names_lua_path():
    error = problems("sms", {"messages": [{"to": "+61411111111", "body": "ok"}, {"to": "+61422222222"}]})
    assert str(error).startswith("clicksend_send_sms: ")
    assert "messages[2].body is missing" in str(error)


def test_every_failing_field_is_listed():
    error = problems("sms", {"messages": [{"too": "+61411111111", "body": ""}], "extra": 1})
    text = str(error)
    assert len(error.problems) == 4
    assert "messages[1].too is not a known field; did you mean to?" in text
    assert "messages[1].body is empty" in text
    assert "messages[1].to is missing" in text
    assert "extra is not a known field" in text


def test_unknown_top_level_field_on_tool_without_parameters():
    error = problems("get_account_balance", {"verbose": True})
    assert "verbose is not a known field" in str(error)


def test_integral_float_becomes_integer():
    arguments = validate_arguments(REGISTRY.get("get_sms_history"), {"limit": 30 / 2})
    assert arguments["limit"] == 15
    assert isinstance(arguments["limit"], int)


def test_fractional_float_is_rejected():
    error = problems("get_sms_history", {"limit": 15.5})
    assert "limit 15.5 is a number with a fraction; expected an integer" in str(error)


def test_empty_table_is_accepted_as_array_then_reported_empty():
    error = problems("sms", {"messages": {}})
    assert "messages is empty" in str(error)


def test_empty_arguments_table_is_accepted():
    assert validate_arguments(REGISTRY.get("get_account_balance"), []) == {}


def test_non_table_arguments_are_rejected():
    error = problems("sms", "hello")
    assert "pass a table of named fields" in str(error)


def test_limit_above_maximum():
    error = problems("list_contact_lists", {"limit": 500})
    assert "limit 500 is above the maximum of 100" in str(error)


def test_page_below_minimum():
    error = problems("get_voice_history", {"page": 0})
    assert "page 0 is below the minimum of 1" in str(error)


def test_voice_enum_lists_allowed_values():
    error = problems("voice", {"messages": [{"to": "+61411111111", "body": "x", "voice": "robot"}]})
    assert "messages[1].voice 'robot' is not allowed; use one of 'female', 'male'" in str(error)


def test_more_than_10000_messages_rejected():
    messages = [{"to": "+61411111111", "body": "x"}] * 10_001
    error = problems("sms", {"messages": messages})
    assert "messages has 10001 items, more than 10000 per call" in str(error)


def test_list_id_replaces_to():
    arguments = validate_arguments(REGISTRY.get("sms"), {"messages": [{"list_id": 4, "body": "hi"}]})
    assert arguments["messages"][0]["list_id"] == 4


def test_date_in_words_is_rejected_with_accepted_forms():
    error = problems("get_sms_history", {"date_from": "last tuesday"})
    assert "date_from 'last tuesday' is not a date" in str(error)
    assert "YYYY-MM-DD" in str(error)


@pytest.mark.parametrize("value", ["2026-11-01", "2026-11-01T10:00:00", "2026-11-01T10:00:00Z", "2026-11-01T10:00:00+10:00", 1793491200, "1793491200"])
def test_accepted_date_forms(value):
    arguments = validate_arguments(REGISTRY.get("get_sms_history"), {"date_from": value})
    assert arguments["date_from"] == value


def test_impossible_calendar_date_is_rejected():
    error = problems("get_sms_history", {"date_to": "2026-02-30"})
    assert "date_to '2026-02-30' is not a date" in str(error)


def test_date_only_range_in_utc():
    zone = resolve_time_zone(None)
    assert to_unix_seconds("2026-11-01", zone, end_of_day=False) == 1793491200
    assert to_unix_seconds("2026-11-30", zone, end_of_day=True) == 1796083199


def test_date_only_range_in_sydney():
    zone = resolve_time_zone("Australia/Sydney")
    assert to_unix_seconds("2026-07-01", zone, end_of_day=False) == 1782828000
    assert to_unix_seconds("2026-07-01", zone, end_of_day=True) == 1782914399


def test_datetime_without_offset_uses_zone():
    zone = resolve_time_zone("Australia/Sydney")
    assert to_unix_seconds("2026-07-01T00:00:00", zone, end_of_day=True) == 1782828000


def test_unknown_time_zone_is_rejected():
    with pytest.raises(ValueError, match="Mars/Base"):
        resolve_time_zone("Mars/Base")


def test_letter_requires_file_url():
    error = problems(
        "post_letter",
        {"recipients": [{"name": "A", "address": "1 St", "city": "P", "state": "WA", "postal_code": "1", "country": "AU"}]},
    )
    assert "file_url is missing" in str(error)


def test_letter_recipient_missing_state_names_both_forms():
    error = problems(
        "post_letter",
        {"file_url": "https://example.com/a.pdf", "recipients": [{"name": "A", "address": "1 St", "city": "P", "postal_code": "1", "country": "AU"}]},
    )
    assert "recipients[1].address_state is missing; give address_state or state" in str(error)


def test_email_to_accepts_string_table_and_list():
    spec = REGISTRY.get("email")
    for to in ("a@example.com", {"email": "a@example.com", "name": "A"}, ["a@example.com", {"email": "b@example.com"}]):
        assert validate_arguments(spec, {"to": to, "subject": "s", "body": "b"})["to"] == to


def test_email_to_number_is_rejected():
    error = problems("email", {"to": 5, "subject": "s", "body": "b"})
    assert "to 5 is not valid" in str(error)


def test_international_number_checked_with_other_fields():
    error = problems("sms", {"messages": [{"to": "+610", "body": "x"}, {"to": "+61411111111"}]})
    assert "messages[1].to '+610' is not a valid phone number: it is too short" in str(error)
    assert "messages[2].body is missing" in str(error)


def test_local_number_passes_schema_for_later_lookup():
    arguments = validate_arguments(REGISTRY.get("sms"), {"messages": [{"to": "0411 111 111", "body": "x"}]})
    assert arguments["messages"][0]["to"] == "0411 111 111"
