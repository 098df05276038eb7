"""Cost of running a script in a worker process: start-up, imports, and tool calls over the pipes.

By default (and in CI) each benchmark runs a few rounds and only checks that the measured code
works. Set KOSMO_BENCH=full for the real measurement, which prints the median per operation:

    KOSMO_BENCH=full python -m pytest tests/benchmarks/test_bench_worker.py -s
"""

from __future__ import annotations

import os

from kosmo_clicksend.lua_runtime import Limits, ScriptRunner
from kosmo_clicksend.worker import WorkerRunner

from fakes import NullHost, median_seconds

FULL = os.environ.get("KOSMO_BENCH") == "full"
# A worker run takes tens of milliseconds, so fewer rounds than the in-process benchmarks.
ROUNDS = 50 if FULL else 3
CALLS = 500





def test_bench_worker_tiny_script_run():
    worker_runner = WorkerRunner(NullHost(), Limits())
    in_process = ScriptRunner(NullHost(), Limits())
    worker_median = median_seconds(lambda: worker_runner.run("return 1"), ROUNDS)
    in_process_median = median_seconds(lambda: in_process.run("return 1"), ROUNDS)
    if FULL:
        print(
            f"\ntiny script in a worker: {worker_median * 1e3:.1f} ms median over {ROUNDS} runs"
            f" (in-process: {in_process_median * 1e3:.2f} ms)"
        )
    assert worker_runner.run("return 1").result == 1


def test_bench_worker_tool_calls():
    runner = WorkerRunner(NullHost(), Limits())
    code = f"local n = 0 for i = 1, {CALLS} do n = n + app.integrations.clicksend.sms{{}}.data.n end return n"
    with_calls = median_seconds(lambda: runner.run(code), ROUNDS)
    without_calls = median_seconds(lambda: runner.run("return 1"), ROUNDS)
    if FULL:
        per_call = (with_calls - without_calls) / CALLS
        print(f"\ntool call through the worker's pipes: {per_call * 1e6:.0f} us per call, median over {ROUNDS} runs")
    assert runner.run(code).result == CALLS
