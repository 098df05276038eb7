"""Cost of a script run and of one tool call through the sandbox.

By default (and in CI) each benchmark runs a few rounds and only checks that the measured code
works. Set KOSMO_BENCH=full for the real measurement, which prints the median per operation:

    KOSMO_BENCH=full python -m pytest tests/benchmarks -s
"""

from __future__ import annotations

import os

from kosmo_clicksend.lua_runtime import Limits, ScriptRunner

from fakes import NullHost, median_seconds

FULL = os.environ.get("KOSMO_BENCH") == "full"
ROUNDS = 300 if FULL else 3





def test_bench_empty_script_run():
    runner = ScriptRunner(NullHost(), Limits())
    median = median_seconds(lambda: runner.run("return 1"), ROUNDS)
    if FULL:
        print(f"\nempty script run: {median * 1e6:.0f} us median over {ROUNDS} runs")
    assert runner.run("return 1").result == 1


def test_bench_tool_calls_per_run():
    runner = ScriptRunner(NullHost(), Limits())
    code = "local n = 0 for i = 1, 100 do n = n + app.integrations.clicksend.sms{}.data.n end return n"
    median = median_seconds(lambda: runner.run(code), ROUNDS)
    if FULL:
        print(f"\n100 tool calls in one run: {median * 1e6 / 100:.1f} us per call, median over {ROUNDS} runs")
    assert runner.run(code).result == 100


def test_bench_simulated_send(run_lua):
    code = 'return app.integrations.clicksend.sms{messages = {{to = "+61411111111", body = "bench"}}}.response_code'
    median = median_seconds(lambda: run_lua(code), ROUNDS)
    if FULL:
        print(f"\nscript with one simulated SMS send: {median * 1e3:.2f} ms median over {ROUNDS} runs")
    assert run_lua(code).result == "SUCCESS"
