"""`recordings-kms` when something unexpected happens: one line and exit 2, or a quiet exit 141 on a closed pipe.

The endpoint that answers HTML is a real HTTP server on 127.0.0.1 (what a proxy or a load balancer
in front of a wrong ``--endpoint-url`` sends); the closed pipe is a real pipe whose read end is closed
before the command writes, which is what ``| head`` leaves once ``head`` has exited.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from recordings_kms.cli import main
from recordings_kms.guard import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, run_command
from tests.cli.conftest import VERIFY_FIXTURES

pytestmark = pytest.mark.usefixtures(*VERIFY_FIXTURES)
REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "111122223333"
AUTH = f"arn:aws:iam::{ACCOUNT}:role/teleport-auth"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
#: Not XML and not JSON, and not the bare ``<html>`` botocore recognizes as a generic error page: botocore
#: raises ``ResponseParserError``, which is neither a ``ClientError`` nor a ``BotoCoreError``.
HTML_PAGE = (
    b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>500 Internal Server Error</title>'
    b"</head><body><h1>Internal Server Error</h1>" + b"<p>The proxy could not reach the upstream.</p>" * 40 + b"</body>"
)


class _HtmlErrors(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(500)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(HTML_PAGE)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(HTML_PAGE)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def html_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlErrors)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line(code: int, err: str, fragment: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert err.startswith("recordings-kms: error: ")
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err, err


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "--stack-name", "recordings"],
        ["teleport-config", "--stack-name", "recordings"],
        ["migrate", "--source-bucket", "legacy", "--stack-name", "recordings"],
    ],
    ids=["verify", "teleport-config", "migrate"],
)
def test_an_endpoint_answering_html_is_one_line_and_exit_2(
    argv: list[str], html_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """botocore's ResponseParserError (CloudFormation's XML parser meets HTML) used to escape as a traceback."""
    code, out, err = run([*argv, "--endpoint-url", html_endpoint, "--region", "eu-west-1"], capsys)
    assert_one_line(
        code, err, "cloudformation call for recordings failed: the endpoint's answer is not an AWS response"
    )
    assert "the answer starts: <!DOCTYPE html>" in err
    assert len(err) < 600, "the page is quoted, not printed whole"
    assert out == ""


def test_with_json_the_error_is_also_the_document(html_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["verify", "--stack-name", "recordings", "--json", "--endpoint-url", html_endpoint, "--region", "eu-west-1"]
    code, out, err = run(argv, capsys)
    assert_one_line(code, err, "is not an AWS response")
    assert json.loads(out) == {"ok": False, "error": err.strip().removeprefix("recordings-kms: error: ")}


def test_a_json_endpoint_answering_html_is_one_bounded_line(
    html_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """KMS speaks JSON: botocore turns the page into a ClientError whose message is the whole page."""
    argv = ["verify", "--bucket", "acme-recordings", "--key", KEY_ARN, "--auth", AUTH, "--admin", ADMIN]
    code, _, err = run([*argv, "--endpoint-url", html_endpoint], capsys)
    assert_one_line(code, err, f"kms DescribeKey on {KEY_ARN} failed: 500: <!DOCTYPE html>")
    assert len(err) < 600


def test_an_unexpected_error_in_a_command_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A bug, or an exception no handler anticipated: named, on one line, bounded; never exit 1 ("a check failed")."""

    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError("first line\nsecond line " + "x" * 1000)

    code = run_command(broken, argparse.Namespace(json=True))
    captured = capsys.readouterr()
    assert_one_line(code, captured.err, "unexpected RuntimeError: first line second line xxx")
    assert "... (1023 characters)" in captured.err
    assert json.loads(captured.out)["ok"] is False


def test_ctrl_c_outside_migrate_is_one_line_and_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    assert run_command(interrupted, argparse.Namespace()) == EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == "recordings-kms: interrupted\n"


def into_closed_pipe(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    """The command with its stdout on a pipe nobody reads any more (``| head`` after head exited)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "recordings_kms", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            cwd=REPO,
            check=False,
            timeout=60,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "argv",
    [
        ["policy", "--auth", AUTH, "--admin", ADMIN],
        ["bucket-policy", "--bucket", "acme-recordings", "--key", KEY_ARN],
        ["teleport-config", "--uri", f"s3://acme-recordings/records?region=eu-west-1&sse_kms_key={KEY_ARN}"],
    ],
    ids=["policy", "bucket-policy", "teleport-config"],
)
def test_a_closed_pipe_ends_quietly_with_141(argv: list[str]) -> None:
    """As a Unix tool SIGPIPE ends: nothing on stderr, 128 + 13 (the recipe of Python's "Note on SIGPIPE")."""
    result = into_closed_pipe(argv)
    assert result.stderr == b""
    assert result.returncode == EXIT_BROKEN_PIPE == 141


def test_a_closed_pipe_after_a_large_output_ends_quietly_with_141(monkeypatch: pytest.MonkeyPatch) -> None:
    """The write fails inside the handler (output larger than a pipe's buffer), not at the final flush."""

    def chatty(args: argparse.Namespace) -> int:
        for n in range(100_000):
            print(f"line {n}")
        return 0

    read, write = os.pipe()
    os.close(read)
    saved = os.dup(1)
    os.dup2(write, 1)  # the guard repoints file descriptor 1: give it one of its own and restore ours after
    try:
        with open(1, "w", closefd=False) as stdout:
            monkeypatch.setattr(sys, "stdout", stdout)
            code = run_command(chatty, argparse.Namespace())
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(write)
    assert code == EXIT_BROKEN_PIPE
