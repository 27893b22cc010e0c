"""Strings and globs in z3: the fixed regular expressions, ``StringLike``/``ArnLike`` patterns, and
the fresh z3 context each proof runs in.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import z3

from constructs_lib.core.prover.match import (
    arn_segments,
)
from constructs_lib.core.prover.organizations import (
    SERVICE_LINKED_PATH,
)

Bool = Any  # z3.BoolRef: z3 ships no type information
Expr = Any


@dataclass(frozen=True)
class Regexes:
    """The fixed regular expressions, built once per z3 context."""

    any_char: Expr
    any_string: Expr
    not_colon: Expr
    printable: Expr
    #: IAM names: alphanumerics and ``+=,.@_-``; paths add ``/``.
    iam_name: Expr
    #: An AWS STS federated user's name (GetFederationToken ``Name``: ``[\w+=,.@-]+``, no ``/``).
    federated_name: Expr
    account_id: Expr
    service_name: Expr
    #: A readable ``kms:ViaService`` for counterexamples (``ec2.eu-west-1.amazonaws.com``).
    via_service: Expr
    #: A readable stand-in name for counterexamples (letters, digits, hyphens).
    readable_name: Expr


_regexes: tuple[Any, Regexes] | None = None


def regexes() -> Regexes:
    """The fixed regular expressions of the current z3 context (``isolated`` changes it)."""
    global _regexes
    context = z3.main_ctx()
    if _regexes is None or _regexes[0] is not context:
        sort = z3.ReSort(z3.StringSort())
        any_char = z3.AllChar(sort)
        _regexes = (
            context,
            Regexes(
                any_char=any_char,
                any_string=z3.Full(sort),
                not_colon=z3.Intersect(any_char, z3.Complement(z3.Re(":"))),
                printable=z3.Star(z3.Range(" ", "~")),
                iam_name=z3.Plus(
                    z3.Union(
                        z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"), *(z3.Re(c) for c in "+=,.@_-/")
                    )
                ),
                federated_name=z3.Plus(
                    z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"), *(z3.Re(c) for c in "+=,.@_-"))
                ),
                account_id=z3.Loop(z3.Range("0", "9"), 12, 12),
                service_name=z3.Concat(
                    z3.Plus(z3.Union(z3.Range("a", "z"), z3.Range("0", "9"), z3.Re("-"), z3.Re("."))),
                    z3.Re(".amazonaws.com"),
                ),
                via_service=z3.Concat(
                    z3.Range("a", "z"),
                    z3.Star(z3.Union(z3.Range("a", "z"), z3.Range("0", "9"), z3.Re("-"), z3.Re("."))),
                    z3.Re(".amazonaws.com"),
                ),
                readable_name=z3.Plus(z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"), z3.Re("-"))),
            ),
        )
    return _regexes[1]


@contextmanager
def isolated() -> Iterator[None]:
    """Run one proof in a fresh z3 context.

    z3's answers depend on everything its (global) context has seen, so without this the same
    question asked twice in one process can get two different, equally valid counterexamples.
    Python's cyclic garbage collector is paused meanwhile: it runs when the whole process's
    allocations say so, and the z3 terms it frees give their ids back to z3, whose search order
    follows term ids; with only reference counting freeing terms, one question costs the same
    rlimit units and gets the same answer every time (``budget``). Not thread-safe, like z3's
    global context itself.
    """
    module = z3.z3
    saved = module._main_ctx
    module._main_ctx = None
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        module._main_ctx = saved
        if collecting:
            gc.enable()


def literal_re(text: str, *, ignore_case: bool = False) -> Expr:
    if not text:
        return z3.Re(z3.StringVal(""))
    if not ignore_case:
        return z3.Re(z3.StringVal(text))
    parts = [
        z3.Union(z3.Re(c.lower()), z3.Re(c.upper())) if c.lower() != c.upper() else z3.Re(z3.StringVal(c)) for c in text
    ]
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def glob_re(pattern: str, *, ignore_case: bool = False, star: Expr = None, one: Expr = None) -> Expr:
    """``*`` and ``?`` wildcards, the rest literal."""
    star = regexes().any_string if star is None else star
    one = regexes().any_char if one is None else one
    parts: list[Expr] = []
    literal = ""
    for char in pattern:
        if char in "*?":
            if literal:
                parts.append(literal_re(literal, ignore_case=ignore_case))
                literal = ""
            parts.append(star if char == "*" else one)
        else:
            literal += char
    if literal or not parts:
        parts.append(literal_re(literal, ignore_case=ignore_case))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def arn_re(pattern: str) -> Expr | None:
    """ArnLike: the six components matched separately (wildcards stay within a component)."""
    segments = arn_segments(pattern)
    if segments is None:
        return None
    parts: list[Expr] = []
    for index, segment in enumerate(segments):
        if index:
            parts.append(z3.Re(":"))
        if index < 5:
            parts.append(glob_re(segment, star=z3.Star(regexes().not_colon), one=regexes().not_colon))
        else:
            parts.append(glob_re(segment))
    return z3.Concat(*parts)


def string_matches(value: Expr, pattern: str) -> Bool:
    """StringLike on a symbolic string, in the cheapest form z3 reads: equality, prefix, suffix or
    containment where the pattern is one of those shapes, a regular expression otherwise."""
    if "*" not in pattern and "?" not in pattern:
        return value == z3.StringVal(pattern)
    if "?" not in pattern:
        parts = pattern.split("*")
        if all(not part for part in parts):
            return z3.BoolVal(True)
        if len(parts) == 2:
            head, tail = parts
            if not tail:
                return z3.PrefixOf(z3.StringVal(head), value)
            if not head:
                return z3.SuffixOf(z3.StringVal(tail), value)
            return z3.And(
                z3.Length(value) >= len(head) + len(tail),
                z3.PrefixOf(z3.StringVal(head), value),
                z3.SuffixOf(z3.StringVal(tail), value),
            )
        if len(parts) == 3 and not parts[0] and not parts[2]:
            return z3.Contains(value, z3.StringVal(parts[1]))
        if len(parts) == 3:
            return _around(value, *parts)
    return z3.InRe(value, glob_re(pattern))


def _around(value: Expr, head: str, middle: str, tail: str) -> Bool:
    """``head*middle*tail``: the head a prefix, the tail a suffix, and the middle inside what is between
    them (a slice z3 reads far faster than the pattern's regular expression)."""
    between = z3.Length(value) - len(head) - len(tail)
    return z3.And(
        between >= len(middle),
        z3.PrefixOf(z3.StringVal(head), value),
        z3.SuffixOf(z3.StringVal(tail), value),
        z3.Contains(z3.SubString(value, len(head), between), z3.StringVal(middle)),
    )


def has_service_linked_path(name: Expr) -> Bool:
    return z3.PrefixOf(z3.StringVal(SERVICE_LINKED_PATH), name)


def is_case_variant(name: Expr, of: str) -> Bool:
    """``name`` is ``of`` spelt in another case."""
    return z3.And(z3.InRe(name, literal_re(of, ignore_case=True)), name != z3.StringVal(of))
