"""The Lua reference: committed render, page names, and every example run against the simulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lupa.lua54 import LuaRuntime

from kosmo_clicksend.docs import NAMESPACE_PAGE, page_names, read_doc
from kosmo_clicksend.specs import REGISTRY

ROOT = Path(__file__).resolve().parent.parent

LUA_BLOCK = re.compile(r"```lua\n(.*?)```", re.DOTALL)


def lua_blocks(text: str) -> list[str]:
    return LUA_BLOCK.findall(text)


def test_committed_reference_is_current():
    committed = (ROOT / "lua_docs" / "clicksend.md").read_text(encoding="utf-8")
    assert committed == read_doc(NAMESPACE_PAGE), "regenerate with: kosmo-clicksend docs > lua_docs/clicksend.md"


def test_render_is_byte_stable():
    assert read_doc(NAMESPACE_PAGE) == read_doc(NAMESPACE_PAGE)


def test_namespace_page_has_every_function_once():
    text = read_doc(NAMESPACE_PAGE)
    for spec in REGISTRY:
        assert text.count(f"## app.integrations.clicksend.{spec.short_name}(") == 1


def test_namespace_page_states_operation_and_full_name():
    text = read_doc(NAMESPACE_PAGE)
    assert "- Operation: write\n- Full name: `clicksend.clicksend_send_sms`" in text


def test_namespace_page_has_multi_account_section():
    assert "## Multiple accounts" in read_doc(NAMESPACE_PAGE)


def test_sms_description_is_whole_in_reference():
    text = read_doc(NAMESPACE_PAGE)
    assert REGISTRY.get("sms").description in text
    assert ".." not in REGISTRY.get("sms").description


def test_every_lua_block_compiles():
    runtime = LuaRuntime()
    blocks = lua_blocks(read_doc(NAMESPACE_PAGE))
    assert len(blocks) == len(REGISTRY) + 1
    for block in blocks:
        runtime.compile(block)


def test_tables_with_several_fields_have_commas():
    for block in lua_blocks(read_doc(NAMESPACE_PAGE)):
        lines = block.splitlines()
        for line in lines:
            stripped = line.strip()
            if re.match(r"^[a-z_]+ = .*[^,{(]$", stripped):
                pytest.fail(f"field without a trailing comma: {line!r}")


@pytest.mark.parametrize("index", range(len(REGISTRY) + 1))
def test_every_lua_block_runs_against_simulator(run_lua, index):
    block = lua_blocks(read_doc(NAMESPACE_PAGE))[index]
    result = run_lua(block)
    assert result.success, f"{result.error}\n{block}"
    assert result.output


@pytest.mark.parametrize("name", [spec.short_name for spec in REGISTRY] + [spec.name for spec in REGISTRY])
def test_function_page_by_either_name(name):
    spec = REGISTRY.get(name)
    text = read_doc(f"integrations.clicksend.{name}")
    assert text.startswith(f"# app.integrations.clicksend.{spec.short_name}(")
    assert f"*(Maps to tool: `{spec.name}`)*" in text


def test_leading_app_prefix_is_accepted():
    assert read_doc("app.integrations.clicksend.sms") == read_doc("integrations.clicksend.sms")


def test_account_page_lists_account_functions():
    text = read_doc("integrations.clicksend.work", ["default", "work"])
    assert text.startswith("# app.integrations.clicksend.work")
    assert "## app.integrations.clicksend.work.sms({messages})" in text


def test_account_function_page():
    text = read_doc("integrations.clicksend.work.sms", ["work"])
    assert text.startswith("# app.integrations.clicksend.work.sms(")


def test_account_page_examples_run(run_lua):
    for block in lua_blocks(read_doc("integrations.clicksend.work", ["default", "work"])):
        result = run_lua(block)
        assert result.success, f"{result.error}\n{block}"


def test_unknown_page_lists_pages():
    text = read_doc("integrations.clicksend.fax", ["work"])
    assert text.startswith("Page 'integrations.clicksend.fax' not found.")
    for name in page_names(["work"]):
        assert f"- {name}\n" in text


def test_unknown_account_has_no_page():
    assert read_doc("integrations.clicksend.work").startswith("Page 'integrations.clicksend.work' not found.")
