"""Progress reporters: plain lines for pipes, rich bars for terminals, nothing for JSON."""

from __future__ import annotations

import io

from lmsprofiles._reconcile._progress import (
    PlainReporter,
    RichReporter,
    SilentReporter,
    make_reporter,
)


def test_plain_reporter_prints_start_and_outcome_lines() -> None:
    out = io.StringIO()
    reporter = PlainReporter(out)
    reporter.start("load", "chat", "qwen/qwen3-8b")
    reporter.progress(0.5)
    reporter.finish(None)
    reporter.start("load", "coder", "qwen/qwen2.5-coder-14b")
    reporter.finish("insufficient memory")
    reporter.close()
    assert out.getvalue().splitlines() == [
        "load chat (qwen/qwen3-8b) ...",
        "load chat: done",
        "load coder (qwen/qwen2.5-coder-14b) ...",
        "load coder: FAILED: insufficient memory",
    ]


def test_rich_reporter_draws_and_stops() -> None:
    out = io.StringIO()
    reporter = RichReporter(out)
    reporter.start("load", "chat", "qwen/qwen3-8b")
    reporter.progress(0.5)
    reporter.finish("boom")
    reporter.close()
    assert "load chat (qwen/qwen3-8b): FAILED: boom" in out.getvalue()


def test_reporter_choice() -> None:
    assert isinstance(make_reporter(io.StringIO(), json_output=True), SilentReporter)
    assert isinstance(make_reporter(io.StringIO(), json_output=False), PlainReporter)
