"""Contract test: every request the client sends and every response the simulator returns must
match the schemas of the same operation in ClickSend's OpenAPI specification.

The specification is ClickSend's v3 OpenAPI file from its official SDK repository, kept in a
``shared/`` directory beside the repository checkout. Without that file the tests skip.

OpenAPI 3.0 ``nullable`` is translated to JSON Schema ``null`` types, and ``$ref`` pointers are
resolved inside the spec's own ``components``. Where the spec disagrees with itself (a schema
against the example printed beside it, or a shared schema against the operation that uses
it), the simulator follows the project's ClickSend reference notes. ``SPEC_CORRECTIONS`` below
lists each correction with its reason. A response error (HTTP 4xx or 5xx) is checked
against the spec's only error schema, ``400_error``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jsonschema
import pytest

from kosmo_clicksend.config import Account
from kosmo_clicksend.simulator import Simulator, SimulatorTransport
from kosmo_clicksend.tools import ClickSendService

SPEC_PATH = Path(__file__).resolve().parents[2] / "shared/reference/clicksend-openapi-v3.yaml"
BASE_URL = "https://rest.clicksend.com/v3"

# Corrections to the spec, as (component schema, property, replacement schema, reason).
SPEC_CORRECTIONS: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "pagination",
        "from",
        {"type": ["integer", "null"]},
        "an empty page has no first row; ClickSend's Laravel paginator returns null",
    ),
    ("pagination", "to", {"type": ["integer", "null"]}, "same as from"),
    (
        "view_lists_data",
        "next_page_url",
        {"type": ["string", "null"]},
        "the shared pagination schema marks page URLs nullable, and the last page has no next page",
    ),
    ("view_lists_data", "prev_page_url", {"type": ["string", "null"]}, "the first page has no previous page"),
    (
        "view_sms_history_data_allOf_data_inner",
        "from_email",
        {"type": ["string", "null"]},
        "the spec's own example for this operation has null here",
    ),
    ("view_sms_history_data_allOf_data_inner", "custom_string", {"type": ["string", "null"]}, "null in the spec's example"),
    ("view_sms_history_data_allOf_data_inner", "contact_id", {"type": ["string", "null"]}, "null in the spec's example"),
    ("view_sms_history_data_allOf_data_inner", "status_code", {"type": ["string", "null"]}, "no gateway code before delivery"),
    ("view_sms_history_data_allOf_data_inner", "status_text", {"type": ["string", "null"]}, "no gateway text before delivery"),
    (
        "sms_send_sms",
        "schedule",
        {"type": ["integer", "string"]},
        "refused messages carry schedule \"\" in ClickSend's observed responses and in the price schema",
    ),
    (
        "voice_message",
        "voice",
        {"type": ["string", "null"]},
        "a message refused for a missing voice has no voice to echo",
    ),
    (
        "recipient",
        "schedule",
        {"type": ["integer", "string"]},
        "refused letters carry schedule \"\", like refused SMS",
    ),
    (
        "recipient",
        "_return_address",
        {"anyOf": [{"$ref": "#/components/schemas/postcard_recipient__return_address"}, {"type": "null"}]},
        "a letter refused for an unknown return address has none to show",
    ),
    # Request-side corrections: the spec types these ids as strings, ClickSend's older
    # documentation and SDK 5 send integers, and the client sends integers.
    (
        "send_postcard_request_recipients_inner",
        "return_address_id",
        {"type": ["integer", "string"]},
        "integer in ClickSend's v5 SDK and older API documentation",
    ),
    (
        "send_sms_request_messages_inner",
        "list_id",
        {"type": ["integer", "string"]},
        "a number in ClickSend's older documentation and an integer in its v5 SDK",
    ),
    (
        "send_email_request_from",
        "email_address_id",
        {"type": ["integer", "string"]},
        "a number in ClickSend's older documentation, a string in the SDKs; both are accepted",
    ),
]

# Query parameters the spec describes only in an operation's prose, so they are missing from its
# parameter list; ClickSend's v5 SDK sends them. The voice history list has date_to but lost date_from.
PAGE_PARAMETERS = [
    {"in": "query", "name": "page", "schema": {"type": "integer", "minimum": 1}},
    {"in": "query", "name": "limit", "schema": {"type": "integer", "minimum": 15, "maximum": 100}},
]
DATE_PARAMETERS = [
    {"in": "query", "name": "date_from", "schema": {"type": "integer"}},
    {"in": "query", "name": "date_to", "schema": {"type": "integer"}},
]
QUERY_CORRECTIONS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("get", "/v3/lists"): PAGE_PARAMETERS,
    ("get", "/v3/email/addresses"): PAGE_PARAMETERS,
    ("get", "/v3/post/return-addresses"): PAGE_PARAMETERS,
    ("get", "/v3/post/letters/history"): PAGE_PARAMETERS,
    ("get", "/v3/lists/{list_id}/contacts"): PAGE_PARAMETERS,
    ("get", "/v3/email/history"): PAGE_PARAMETERS + DATE_PARAMETERS,
    ("get", "/v3/voice/history"): DATE_PARAMETERS[:1],
}

# Operations whose 200 schema contradicts itself: allOf of an object and an array. The
# reference documents the paginated object of transactional emails for history and the
# older documented price object for /email/price.
EMAIL_PRICE_SCHEMA = {
    "type": "object",
    "required": ["_currency", "to_array", "price"],
    "properties": {
        "_currency": {"$ref": "#/components/schemas/currency"},
        "to_array": {"type": "array", "items": {"$ref": "#/components/schemas/send_email_request_to_inner"}},
        "cc_array": {"type": "array"},
        "bcc_array": {"type": "array"},
        "subject": {"type": "string"},
        "body": {"type": "string"},
        "price": {"type": "number"},
    },
}
# A history row is the spec's transactional_email with these properties replaced: ClickSend's
# older documented history rows have string timestamps and null cc and bcc when empty.
EMAIL_HISTORY_ROW_PROPERTIES = {
    "date_added": {"type": ["integer", "string"]},
    "schedule": {"type": ["integer", "string"]},
    "cc": {"type": ["array", "null"]},
    "bcc": {"type": ["array", "null"]},
}
OPERATION_DATA_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/v3/email/price"): EMAIL_PRICE_SCHEMA,
    ("get", "/v3/email/history"): {
        "allOf": [
            {"$ref": "#/components/schemas/pagination"},
            {"properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/email_history_row"}}}},
        ]
    },
}


def _translate(node: Any) -> Any:
    """Turn an OpenAPI 3.0 schema into JSON Schema: nullable becomes a null type."""
    if isinstance(node, list):
        return [_translate(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _translate(value) for key, value in node.items() if key not in ("example", "examples", "nullable")}
    if node.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


class Contract:
    """The spec's operations and schemas, translated once per test module."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self._validators: dict[str, jsonschema.Draft4Validator] = {}
        self.components = {"schemas": _translate(raw["components"]["schemas"])}
        for schema_name, prop, replacement, _reason in SPEC_CORRECTIONS:
            properties = self.components["schemas"][schema_name].setdefault("properties", {})
            assert prop in properties, f"{schema_name}.{prop} is not in the spec"
            properties[prop] = replacement
        row = copy.deepcopy(self.components["schemas"]["transactional_email"])
        row["properties"].update(EMAIL_HISTORY_ROW_PROPERTIES)
        self.components["schemas"]["email_history_row"] = row
        self.operations: list[tuple[re.Pattern[str], str, dict[str, Any]]] = []
        for path, methods in raw["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
            for method, operation in methods.items():
                if isinstance(operation, dict) and "responses" in operation:
                    translated = _translate(operation)
                    extra = QUERY_CORRECTIONS.get((method, path), [])
                    translated["parameters"] = translated.get("parameters", []) + extra
                    self.operations.append((pattern, method, translated))
        # Exact paths first, so /v3/email/addresses wins over a templated sibling.
        self.operations.sort(key=lambda item: item[0].pattern.count("[^/]+"))

    def operation(self, method: str, path: str) -> dict[str, Any]:
        for pattern, operation_method, operation in self.operations:
            if operation_method == method.lower() and pattern.match(path):
                return operation
        raise AssertionError(f"{method} {path} is not an operation of the ClickSend spec")

    def validate(self, schema: dict[str, Any], instance: Any, what: str) -> None:
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            validator = jsonschema.Draft4Validator({**schema, "components": self.components})
            self._validators[key] = validator
        errors = sorted(validator.iter_errors(instance), key=lambda error: list(error.absolute_path))
        messages = [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}" for error in errors[:5]]
        assert not errors, f"{what} does not match the spec: " + "; ".join(messages)


@pytest.fixture(scope="module")
def contract() -> Contract:
    if not SPEC_PATH.is_file():
        pytest.skip(f"ClickSend's OpenAPI spec is not at {SPEC_PATH}; the contract test needs a shared/ directory beside the repository")
    yaml = pytest.importorskip("yaml", reason="PyYAML loads the OpenAPI spec; install the test extra")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return Contract(yaml.load(handle, Loader=loader))


class Exchange:
    """One request and its response, as seen on the wire."""

    def __init__(self, request: httpx.Request, response: httpx.Response) -> None:
        self.request = request
        self.response = response


class RecordingSimulatorTransport(httpx.BaseTransport):
    def __init__(self, simulator: Simulator, log: list[Exchange]) -> None:
        self._inner = SimulatorTransport(simulator)
        self._log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response = self._inner.handle_request(request)
        self._log.append(Exchange(request, response))
        return response


@pytest.fixture
def exchanges() -> list[Exchange]:
    return []


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    sim = Simulator(seed=11)
    yield sim
    sim.close()


@pytest.fixture
def service(simulator: Simulator, exchanges: list[Exchange]) -> Iterator[ClickSendService]:
    accounts = {"default": Account("default", "contract@example.com", "KEY-contract")}
    svc = ClickSendService(accounts, transport_factory=lambda: RecordingSimulatorTransport(simulator, exchanges))
    yield svc
    svc.close()


@pytest.fixture
def http(simulator: Simulator, exchanges: list[Exchange]) -> Iterator[httpx.Client]:
    transport = RecordingSimulatorTransport(simulator, exchanges)
    with httpx.Client(transport=transport, base_url=BASE_URL, auth=("contract@example.com", "KEY-contract")) as client:
        yield client


def check_exchange(contract: Contract, exchange: Exchange) -> None:
    request, response = exchange.request, exchange.response
    path = request.url.path
    operation = contract.operation(request.method, path)
    what = f"{request.method} {path}"

    for name, value in parse_qsl(request.url.query.decode(), keep_blank_values=True):
        parameter = next((p for p in operation.get("parameters", []) if p["in"] == "query" and p["name"] == name), None)
        assert parameter is not None, f"{what} sends query parameter {name!r}, which the spec does not define"
        schema = parameter.get("schema", {})
        typed: Any = int(value) if schema.get("type") == "integer" and re.fullmatch(r"-?\d+", value) else value
        contract.validate(schema, typed, f"{what} query {name}")

    if request.content:
        request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
        contract.validate(request_schema, json.loads(request.content), f"{what} request body")

    envelope = response.json()
    if response.status_code >= 400:
        contract.validate({"$ref": "#/components/schemas/400_error"}, envelope, f"{what} HTTP {response.status_code}")
        assert envelope["http_code"] == response.status_code
        return
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    override = OPERATION_DATA_OVERRIDES.get((request.method.lower(), path))
    if override is not None:
        contract.validate({"$ref": "#/components/schemas/currency"}, envelope["data"].get("_currency", {}), what)
        contract.validate(override, envelope["data"], f"{what} response data")
    else:
        contract.validate(schema, envelope, f"{what} response")
    assert set(envelope) == {"http_code", "response_code", "response_msg", "data"}


def check_all(contract: Contract, exchanges: list[Exchange], minimum: int) -> None:
    assert len(exchanges) >= minimum
    for exchange in exchanges:
        check_exchange(contract, exchange)


def call(service: ClickSendService, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return service.call(service.resolve_name(name), arguments)


# Requests the package's tools send, and the simulator's responses


def test_contract_sms_tools(contract: Contract, service: ClickSendService, exchanges: list[Exchange]) -> None:
    messages = [{"to": "+61411111111", "body": "contract", "custom_string": "c-1"}, {"to": "+61412345678", "body": "paid"}]
    call(service, "get_sms_price", {"messages": messages})
    call(service, "sms", {"messages": messages})
    call(service, "sms", {"messages": [{"list_id": 1, "body": "to a list"}]})
    call(service, "get_sms_history", {"limit": 15, "page": 1, "date_from": 1_700_000_000, "date_to": 4_000_000_000})
    check_all(contract, exchanges, minimum=4)


def test_contract_voice_tools(contract: Contract, service: ClickSendService, exchanges: list[Exchange]) -> None:
    call(service, "voice", {"messages": [{"to": "+61411111111", "body": "one two three", "lang": "en-au"}]})
    call(service, "get_voice_history", {})
    check_all(contract, exchanges, minimum=2)


def test_contract_account_and_lists_tools(contract: Contract, service: ClickSendService, exchanges: list[Exchange]) -> None:
    call(service, "get_account_balance", {})
    call(service, "list_contact_lists", {"limit": 20})
    check_all(contract, exchanges, minimum=2)


def test_contract_email_tools(contract: Contract, service: ClickSendService, exchanges: list[Exchange]) -> None:
    call(service, "email", {"to": {"email": "test1@test.com", "name": "Test"}, "subject": "Receipt", "body": "<p>Hi</p>"})
    call(service, "get_email_history", {})
    check_all(contract, exchanges, minimum=3)


def test_contract_letter_tool(contract: Contract, service: ClickSendService, exchanges: list[Exchange]) -> None:
    recipient = {"name": "Ada", "address": "1 Test St", "city": "Perth", "state": "WA", "postal_code": "11111", "country": "AU"}
    call(service, "post_letter", {"file_url": "https://example.com/letter.pdf", "recipients": [recipient]})
    check_all(contract, exchanges, minimum=2)


# Endpoints the tools do not call, and error responses


def test_contract_other_endpoints(contract: Contract, http: httpx.Client, simulator: Simulator, exchanges: list[Exchange]) -> None:
    voice_message = {"to": "+61412345678", "body": "price me", "voice": "male", "lang": "en-gb"}
    http.post("/voice/price", json={"messages": [voice_message]})
    http.post("/voice/send", json={"messages": [voice_message, {"to": "+61412345678", "body": "no voice"}]})
    refused = [{"to": "+61411111111", "body": "ok", "schedule": 4_000_000_000}, {"to": "+610", "body": "refused"}]
    http.post("/sms/send", json={"messages": refused})
    http.post("/sms/price", json={"messages": refused})
    http.get("/voice/lang")
    added = http.post("/email/addresses", json={"email_address": "new@example.com"}).json()["data"]
    address_id = added["email_address_id"]
    http.get(f"/email/addresses/{address_id}")
    http.put(f"/email/address-verify/{address_id}/send")
    token = simulator.account_state("contract@example.com")["email_verification_tokens"]["new@example.com"]
    http.put(f"/email/address-verify/{address_id}/verify/{token}")
    email = {"to": [{"email": "a@example.com"}], "from": {"email_address_id": str(address_id)}, "subject": "s", "body": "b"}
    http.post("/email/price", json=email)
    address = {"address_name": "Office", "address_line_1": "2 Side Rd", "address_city": "Perth",
               "address_postal_code": "6000", "address_country": "AU"}  # fmt: skip
    http.post("/post/return-addresses", json=address)
    http.get("/post/return-addresses")
    letter = {"file_url": "https://example.com/l.pdf", "recipients": [{**address, "address_state": "WA", "return_address_id": 1}]}
    http.post("/post/letters/price", json=letter)
    http.post("/post/letters/send", json=letter)
    unknown_return_address = {**letter["recipients"][0], "return_address_id": 999}
    http.post("/post/letters/send", json={**letter, "recipients": [unknown_return_address]})
    http.get("/post/letters/history")
    http.get("/lists/1")
    http.get("/lists/1/contacts")
    http.get("/sms/history", params={"q": "status:Queued", "order_by": "date:desc", "page": 3})
    http.get("/sms/history")
    check_all(contract, exchanges, minimum=20)


def test_contract_error_envelopes(contract: Contract, http: httpx.Client, exchanges: list[Exchange]) -> None:
    http.post("/sms/send", json={"messages": []})
    http.post("/sms/send", json={"messages": [{"to": "+61411111111", "body": "x"}] * 1001})
    http.get("/lists/999")
    http.post("/email/send", json={"to": [{"email": "a@example.com"}], "from": {"email_address_id": 3}, "body": "x"})
    with httpx.Client(transport=http._transport, base_url=BASE_URL) as anonymous:
        anonymous.get("/account")
    statuses = [exchange.response.status_code for exchange in exchanges]
    assert statuses == [400, 400, 404, 403, 401]
    check_all(contract, exchanges, minimum=5)


def test_contract_corrections_name_spec_properties(contract: Contract) -> None:
    for schema_name, _prop, _replacement, reason in SPEC_CORRECTIONS:
        assert schema_name in contract.components["schemas"], schema_name
        assert reason


def test_contract_spec_copy_is_unmodified_by_tests(contract: Contract) -> None:
    before = copy.deepcopy(contract.components["schemas"]["pagination"])
    contract.validate({"$ref": "#/components/schemas/pagination"}, {"total": 0, "from": None}, "pagination")
    assert contract.components["schemas"]["pagination"] == before
