"""Inputs agents get wrong: local numbers, curly quotes, time zones, big batches, pages, bad bodies."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from kosmo_clicksend.client import RetryPolicy
from kosmo_clicksend.config import Account
from kosmo_clicksend.dates import resolve_time_zone, to_unix_seconds
from kosmo_clicksend.errors import ArgumentError, BatchError, InvalidResponseError
from kosmo_clicksend.phones import TEST_NUMBERS, normalize_number
from kosmo_clicksend.tools import ClickSendService

BASE_URL = "https://rest.clicksend.com/v3"


def service_with(**options: Any) -> ClickSendService:
    country = options.pop("default_country", None)
    options.setdefault("retry", RetryPolicy(attempts=1))
    return ClickSendService({"default": Account("default", "user", "KEY-inputs", country)}, **options)


@pytest.fixture
def api():
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


def sent_messages(route) -> list[dict[str, Any]]:
    return [message for call in route.calls for message in json.loads(call.request.content)["messages"]]


def send_answer(request: httpx.Request) -> httpx.Response:
    """Answer a send or price the way ClickSend does: every message accepted, echoed back."""
    messages = json.loads(request.content)["messages"]
    rows = [{**message, "status": "SUCCESS", "message_parts": 1, "message_price": "0.0000"} for message in messages]
    data = {"total_price": 0, "total_count": len(rows), "queued_count": len(rows), "blocked_count": 0, "messages": rows,
            "_currency": {"currency_name_short": "AUD"}}
    return httpx.Response(200, json={"http_code": 200, "response_code": "SUCCESS", "response_msg": "Messages queued for delivery.", "data": data})


# Phone numbers ---------------------------------------------------------------------------------


def test_local_number_uses_configured_country(api):
    route = api.post("/sms/send").mock(side_effect=send_answer)
    result = service_with(default_country="AU").call(
        service_with().resolve_name("sms"), {"messages": [{"to": "0411 111 111", "body": "hi"}]}
    )
    assert sent_messages(route)[0]["to"] == "+61411111111"
    assert result["normalized"] == [{"index": 1, "to": "0411 111 111", "sent": "+61411111111"}]


def test_local_number_falls_back_to_account_country(api):
    api.get("/account").respond(200, json={"http_code": 200, "response_code": "SUCCESS", "data": {"default_country_sms": "AU"}})
    route = api.post("/sms/send").mock(side_effect=send_answer)
    service = service_with()
    service.call(service.resolve_name("sms"), {"messages": [{"to": "0411111111", "body": "a"}, {"to": "0422222222", "body": "b"}]})
    assert [m["to"] for m in sent_messages(route)] == ["+61411111111", "+61422222222"]
    assert [call.request.url.path for call in api.calls].count("/v3/account") == 1


def test_message_country_reads_local_number(api):
    route = api.post("/sms/send").mock(side_effect=send_answer)
    service = service_with(default_country="AU")
    service.call(service.resolve_name("sms"), {"messages": [{"to": "07777 777777", "body": "hi", "country": "GB"}]})
    assert sent_messages(route)[0]["to"] == "+447777777777"


def test_e164_number_is_kept_without_note(api):
    api.post("/sms/send").mock(side_effect=send_answer)
    service = service_with()
    result = service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "hi"}]})
    assert result["normalized"] == []


def test_impossible_number_fails_whole_call(api):
    service = service_with(default_country="AU")
    with pytest.raises(ArgumentError) as caught:
        service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "ok"}, {"to": "12345", "body": "hi"}]})
    assert "messages[2].to '12345' is not a valid phone number" in str(caught.value)
    assert api.calls.call_count == 0


def test_voice_numbers_are_normalised(api):
    route = api.post("/voice/send").mock(side_effect=send_answer)
    service = service_with(default_country="US")
    service.call(service.resolve_name("voice"), {"messages": [{"to": "(405) 555-5555", "body": "hi"}]})
    assert sent_messages(route)[0]["to"] == "+14055555555"


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(TEST_NUMBERS)), st.sampled_from(["", " ", "-"]))
def test_test_numbers_survive_any_spacing(number, separator):
    spaced = number[:3] + separator + number[3:6] + separator + number[6:]
    assert normalize_number(spaced, None) == number


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=20))
def test_normalize_never_crashes(text):
    try:
        result = normalize_number(text, "AU")
    except ValueError as exc:
        assert str(exc)
    else:
        assert result.startswith("+")
        assert result[1:].isdigit()


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=400_000_000, max_value=499_999_999))
def test_local_and_e164_forms_agree(digits):
    outcomes = []
    for text, region in (("0" + str(digits), "AU"), ("+61" + str(digits), None), ("0061 " + str(digits), None)):
        try:
            outcomes.append(normalize_number(text, region))
        except ValueError:
            outcomes.append(None)
    assert outcomes[0] == outcomes[1]
    assert outcomes[1] == outcomes[2]
    assert outcomes[0] in (None, "+61" + str(digits))


# Email addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["to", "cc", "bcc", "from_email_address"])
def test_bad_email_address_is_rejected_before_any_request(api, field):
    service = service_with()
    arguments = {"to": "test1@test.com", "subject": "s", "body": "b", field: "not-an-email"}
    with pytest.raises(ArgumentError) as caught:
        service.call(service.resolve_name("email"), arguments)
    assert f"{field} 'not-an-email' is not a valid email address" in str(caught.value)
    assert api.calls.call_count == 0


def test_bad_address_inside_recipient_list_names_position(api):
    service = service_with()
    with pytest.raises(ArgumentError) as caught:
        service.call(service.resolve_name("email"), {"to": ["a@example.com", {"email": "b@"}], "subject": "s", "body": "b"})
    assert "to[2].email 'b@' is not a valid email address" in str(caught.value)


def test_sms_reply_address_is_checked(api):
    service = service_with()
    with pytest.raises(ArgumentError) as caught:
        service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "x", "from_email": "nope"}]})
    assert "messages[1].from_email 'nope' is not a valid email address" in str(caught.value)


# Dates -----------------------------------------------------------------------------------------


def test_end_of_day_in_sydney(api):
    route = api.get("/sms/history").respond(200, json={"http_code": 200, "response_code": "SUCCESS", "data": {"total": 0, "data": []}})
    service = service_with(time_zone="Australia/Sydney")
    result = service.call(service.resolve_name("get_sms_history"), {"date_from": "2026-07-01", "date_to": "2026-07-01"})
    params = route.calls.last.request.url.params
    assert params["date_from"] == "1782828000"
    assert params["date_to"] == "1782914399"
    assert result["date_range"]["date_from"] == 1782828000
    assert result["date_range"]["date_to_iso"] == "2026-07-01T23:59:59+10:00"


def test_reversed_range_is_rejected(api):
    service = service_with(time_zone="Australia/Sydney")
    with pytest.raises(ArgumentError) as caught:
        service.call(service.resolve_name("get_sms_history"), {"date_from": "2026-07-02", "date_to": "2026-07-01"})
    assert "date_from '2026-07-02' is after date_to '2026-07-01'" in str(caught.value)
    assert api.calls.call_count == 0


@pytest.mark.parametrize("tool", ["get_email_history", "get_voice_history"])
def test_email_and_voice_history_take_dates(api, tool):
    path = "/email/history" if "email" in tool else "/voice/history"
    route = api.get(path).respond(200, json={"http_code": 200, "response_code": "SUCCESS", "data": {"total": 0, "data": []}})
    service = service_with()
    service.call(service.resolve_name(tool), {"date_from": "2026-11-01", "date_to": "2026-11-30"})
    assert route.calls.last.request.url.params["date_from"] == "1793491200"


def test_schedule_accepts_date_forms(api):
    route = api.post("/sms/send").mock(side_effect=send_answer)
    service = service_with(time_zone="Australia/Sydney")
    service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "x", "schedule": "2026-07-01T09:00:00"}]})
    assert sent_messages(route)[0]["schedule"] == 1782860400


def test_schedule_in_words_is_rejected(api):
    service = service_with()
    with pytest.raises(ArgumentError) as caught:
        service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "x", "schedule": "tomorrow"}]})
    assert "messages[1].schedule 'tomorrow' is not a date" in str(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)), st.sampled_from(["UTC", "Australia/Sydney", "America/New_York", "Asia/Kathmandu"]))
def test_date_only_range_covers_whole_day(moment, zone_name):
    zone = resolve_time_zone(zone_name)
    day = moment.date().isoformat()
    start = to_unix_seconds(day, zone, end_of_day=False)
    end = to_unix_seconds(day, zone, end_of_day=True)
    assert start < end
    assert datetime.fromtimestamp(start, tz=timezone.utc).astimezone(zone).date().isoformat() == day
    assert datetime.fromtimestamp(end, tz=timezone.utc).astimezone(zone).date().isoformat() == day
    assert datetime.fromtimestamp(end + 1, tz=timezone.utc).astimezone(zone).date().isoformat() != day


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=4_000_000_000))
def test_unix_seconds_pass_through(seconds):
    zone = resolve_time_zone("Australia/Sydney")
    assert to_unix_seconds(seconds, zone, end_of_day=True) == seconds
    assert to_unix_seconds(str(seconds), zone, end_of_day=False) == seconds


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)))
def test_iso_datetime_with_offset_ignores_zone(moment):
    text = moment.replace(microsecond=0).isoformat()
    assert to_unix_seconds(text, resolve_time_zone("Asia/Tokyo"), end_of_day=True) == int(moment.replace(microsecond=0).timestamp())


# Message bodies --------------------------------------------------------------------------------


def test_curly_quote_is_reported_not_removed(api):
    route = api.post("/sms/price").mock(side_effect=send_answer)
    service = service_with()
    result = service.call(service.resolve_name("get_sms_price"), {"messages": [{"to": "+61411111111", "body": "It’s ready"}]})
    report = result["body_encoding"][0]
    assert report["encoding"] == "Unicode"
    assert report["parts"] == 1
    assert report["unicode_characters"] == ["’"]
    assert sent_messages(route)[0]["body"] == "It’s ready"


def test_gsm_body_report(api):
    api.post("/sms/price").mock(side_effect=send_answer)
    service = service_with()
    result = service.call(service.resolve_name("get_sms_price"), {"messages": [{"to": "+61411111111", "body": "x" * 161}]})
    assert result["body_encoding"][0] == {"index": 1, "encoding": "GSM-7", "characters": 161, "parts": 2, "unicode_characters": []}


@pytest.mark.parametrize("sender", ["My Shop", "AB", "ABCDEFGHIJKL", "12345", "a_b"])
def test_bad_sender_is_rejected(api, sender):
    service = service_with()
    with pytest.raises(ArgumentError) as caught:
        service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "x", "from": sender}]})
    assert f"messages[1].from {sender!r} has the wrong form" in str(caught.value)


@pytest.mark.parametrize("sender", ["MyShop", "Shop+1", "+61411111111", "A1B"])
def test_good_sender_is_accepted(api, sender):
    route = api.post("/sms/send").mock(side_effect=send_answer)
    service = service_with()
    service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "x", "from": sender}]})
    assert sent_messages(route)[0]["from"] == sender


def test_to_and_list_id_together_are_rejected(api):
    service = service_with()
    with pytest.raises(ArgumentError) as caught:
        service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "x", "list_id": 4}]})
    assert "messages[1] gives both to and list_id" in str(caught.value)


# Large batches ---------------------------------------------------------------------------------


def test_2500_messages_go_in_three_ordered_batches(api):
    route = api.post("/sms/send").mock(side_effect=send_answer)
    numbers = sorted(TEST_NUMBERS)
    messages = [{"to": numbers[i % len(numbers)], "body": f"batch message {i}"} for i in range(2500)]
    service = service_with()
    result = service.call(service.resolve_name("sms"), {"messages": messages})
    sizes = [len(json.loads(call.request.content)["messages"]) for call in route.calls]
    assert sizes == [1000, 1000, 500]
    assert [m["body"] for m in sent_messages(route)] == [m["body"] for m in messages]
    assert result["data"]["total_count"] == 2500
    assert result["data"]["queued_count"] == 2500
    assert len(result["data"]["messages"]) == 2500


def test_refused_index_counts_across_batches(api):
    def answer(request: httpx.Request) -> httpx.Response:
        response = send_answer(request)
        payload = json.loads(response.content)
        for row in payload["data"]["messages"]:
            if row["body"] == "refuse me":
                row["status"] = "COUNTRY_NOT_ENABLED"
        return httpx.Response(200, json=payload)

    api.post("/sms/send").mock(side_effect=answer)
    messages = [{"to": "+61411111111", "body": "ok"}] * 1500 + [{"to": "+447777777777", "body": "refuse me"}]
    service = service_with()
    result = service.call(service.resolve_name("sms"), {"messages": messages})
    assert [item["index"] for item in result["refused"]] == [1501]


def test_later_batch_failure_says_what_was_sent(api):
    calls = {"count": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        calls["count"] += 1
        if calls["count"] == 2:
            return httpx.Response(500, json={"http_code": 500, "response_code": "INTERNAL_SERVER_ERROR", "response_msg": "Oops", "data": None})
        return send_answer(request)

    route = api.post("/sms/send").mock(side_effect=answer)
    service = service_with()
    with pytest.raises(BatchError) as caught:
        service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "x"}] * 2500})
    text = str(caught.value)
    assert "messages 1-1000 were sent in 1 batch" in text
    assert "messages 1001-2000 failed" in text
    assert "messages 2001-2500 were not sent" in text
    assert caught.value.sent == 1000
    assert route.call_count == 2


def test_later_batch_timeout_is_unknown_outcome(api):
    calls = {"count": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        calls["count"] += 1
        if calls["count"] == 2:
            raise httpx.ReadTimeout("timed out", request=request)
        return send_answer(request)

    api.post("/sms/send").mock(side_effect=answer)
    service = service_with()
    with pytest.raises(BatchError) as caught:
        service.call(service.resolve_name("sms"), {"messages": [{"to": "+61411111111", "body": "x"}] * 1500})
    assert "the outcome of messages 1001-1500 is unknown" in str(caught.value)


# Pages -----------------------------------------------------------------------------------------


def history_pages(total: int):
    """Serve `total` history rows newest-first or oldest-first, as ClickSend pages them."""
    rows = [{"message_id": f"ID-{n:04d}", "date": 1_790_000_000 + n, "body": f"m{n}"} for n in range(total)]

    def answer(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        page, limit = int(params.get("page", 1)), max(15, min(100, int(params.get("limit", 15))))
        ordered = rows[::-1] if params.get("order_by", "").endswith(":desc") else rows
        chunk = ordered[(page - 1) * limit : page * limit]
        last = -(-total // limit)
        data = {"total": total, "per_page": limit, "current_page": page, "last_page": last,
                "next_page_url": f"{BASE_URL}/sms/history?page={page + 1}" if page < last else None,
                "prev_page_url": None, "from": (page - 1) * limit + 1, "to": (page - 1) * limit + len(chunk), "data": chunk}
        return httpx.Response(200, json={"http_code": 200, "response_code": "SUCCESS", "response_msg": "Here are your data.", "data": data})

    return answer


def test_max_records_follows_pages_newest_first(api):
    route = api.get("/sms/history").mock(side_effect=history_pages(230))
    service = service_with()
    result = service.call(service.resolve_name("get_sms_history"), {"max_records": 200, "order": "newest"})
    rows = result["data"]["data"]
    assert len(rows) == 200
    assert rows[0]["body"] == "m229"
    assert len({row["message_id"] for row in rows}) == 200
    assert [call.request.url.params["page"] for call in route.calls] == ["1", "2"]
    assert all(call.request.url.params["order_by"] == "date:desc" for call in route.calls)
    assert result["data"]["truncated"] is True


def test_max_records_stops_at_last_page(api):
    api.get("/sms/history").mock(side_effect=history_pages(130))
    service = service_with()
    result = service.call(service.resolve_name("get_sms_history"), {"max_records": 1000})
    assert len(result["data"]["data"]) == 130
    assert result["data"]["truncated"] is False


def test_max_records_keeps_filters_on_later_pages(api):
    route = api.get("/sms/history").mock(side_effect=history_pages(150))
    service = service_with()
    service.call(service.resolve_name("get_sms_history"), {"max_records": 150, "date_from": 1})
    assert all(call.request.url.params["date_from"] == "1" for call in route.calls)


def test_max_records_with_page_is_rejected(api):
    service = service_with()
    with pytest.raises(ArgumentError):
        service.call(service.resolve_name("get_sms_history"), {"max_records": 20, "page": 2})


def test_small_limit_page_fields_add_up(api):
    api.get("/sms/history").mock(side_effect=history_pages(40))
    service = service_with()
    data = service.call(service.resolve_name("get_sms_history"), {"limit": 5, "page": 3})["data"]
    assert [row["body"] for row in data["data"]] == ["m10", "m11", "m12", "m13", "m14"]
    assert (data["per_page"], data["current_page"], data["last_page"], data["from"], data["to"]) == (5, 3, 8, 11, 15)


def test_order_maps_to_voice_order_by(api):
    route = api.get("/voice/history").respond(200, json={"http_code": 200, "response_code": "SUCCESS", "data": {"total": 0, "data": []}})
    service = service_with()
    service.call(service.resolve_name("get_voice_history"), {"order": "newest"})
    assert route.calls.last.request.url.params["order_by"] == "date_added:desc"


# Responses as ClickSend sends them -------------------------------------------------------------


def test_html_502_names_status_and_body_start(api):
    api.get("/account").respond(502, text="<html><body><h1>502 Bad Gateway</h1></body></html>")
    service = service_with()
    with pytest.raises(InvalidResponseError) as caught:
        service.call(service.resolve_name("get_account_balance"), {})
    assert "HTTP 502" in str(caught.value)
    assert "<html><body><h1>502 Bad Gateway" in str(caught.value)


def test_numeric_strings_and_old_currency_key_are_read(api):
    api.get("/account").respond(200, json={"http_code": "200", "response_code": 200, "data": {"balance": "12.500000", "currency": "NZD"}})
    service = service_with()
    result = service.call(service.resolve_name("get_account_balance"), {})
    assert result["balance"] == 12.5
    assert result["currency"] == "NZD"


def test_merged_totals_accept_string_prices(api):
    def answer(request: httpx.Request) -> httpx.Response:
        response = json.loads(send_answer(request).content)
        response["data"]["total_price"] = "0.5000"
        return httpx.Response(200, json=response)

    api.post("/sms/price").mock(side_effect=answer)
    service = service_with()
    result = service.call(service.resolve_name("get_sms_price"), {"messages": [{"to": "+61411111111", "body": "x"}] * 1200})
    assert result["data"]["total_price"] == 1.0
