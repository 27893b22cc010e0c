"""The last guard around every command: whatever happens, it ends with one exit code and at most one line.

``cli.main`` runs each command under it, and so does ``migrate``'s own entry (``python -m
recordings_kms.migrate``); it lives apart from the parser so that a command can use it without
importing the CLI that dispatches to it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from recordings_kms.options import PROG

Handler = Callable[[argparse.Namespace], int]

#: Standard output was closed early (``recordings-kms policy ... | head``): 128 + SIGPIPE, the status a shell
#: reports for a Unix tool that SIGPIPE ends. Never 0: the reader did not get the whole answer (under
#: ``set -o pipefail`` a cut-off ``verify`` must not read as a pass); nor 1 or 2, which mean something else.
EXIT_BROKEN_PIPE = 141
#: Ctrl-C outside a command that handles it itself (``migrate`` reports its run and exits 1): 128 + SIGINT.
EXIT_INTERRUPTED = 130
#: The longest unexpected error message an error line quotes.
_UNEXPECTED_CHARS = 300


def stdout_closed() -> int:
    """Nothing more reaches the reader: point stdout at /dev/null so that Python's own flush at exit is
    quiet too (the recipe of the ``signal`` module's "Note on SIGPIPE"), and say nothing."""
    try:
        stdout = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a caller's capture): nothing flushes it at exit
        return EXIT_BROKEN_PIPE
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stdout)
    finally:
        os.close(devnull)
    return EXIT_BROKEN_PIPE


def _unexpected(error: Exception, *, as_json: bool) -> int:
    """An error no command anticipated: one line naming it (exit 2), never a traceback."""
    from recordings_kms import render

    text = " ".join(str(error).split()) or "no message"
    if len(text) > _UNEXPECTED_CHARS:
        text = f"{text[:_UNEXPECTED_CHARS]}... ({len(text)} characters)"
    try:
        return render.error(f"unexpected {type(error).__name__}: {text}", as_json=as_json)
    except BrokenPipeError:
        return stdout_closed()


def run_command(handler: Handler, args: argparse.Namespace) -> int:
    """Run one command's handler so that it ends with an exit code, whatever happens.

    The handlers turn every error they expect into one line and exit 2; this catches the rest
    (an endpoint's HTML page botocore cannot parse, a bug), a reader that closed the pipe
    (``| head``) and Ctrl-C. Output is flushed here, inside the guard: a pipe's buffer is
    otherwise written at interpreter exit, where a closed pipe can only print a traceback.
    """
    as_json = bool(getattr(args, "json", False))
    try:
        code = handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        return stdout_closed()
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the last guard: every error a handler expects is already one line
        return _unexpected(error, as_json=as_json)
    return code
