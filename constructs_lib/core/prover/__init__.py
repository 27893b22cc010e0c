"""The access prover: IAM, KMS and S3 policy semantics on z3, for every request at once.

Public API (docs/PROVER.md describes the supported subset and the semantics):

* ``prove(design, evidence, properties=None, *, budget=None) -> list[PropertyResult]``: P1-P6 (and
  G1-G4 when the evidence has SCPs or RCPs), each PASS, FAIL with a counterexample ``Request``, or
  CANNOT-PROVE with the reasons; all within a deterministic ``Budget`` of z3 work (``budget.py``).
* ``decide(evidence, request, *, account) -> Decision``: one concrete request.
* ``new_access(design, before, after) -> Request | None``: a request ``after`` allows and
  ``before`` does not (raises ``CannotProveError`` when that depends on something not modelled).

Pure: imports z3, the standard library and ``constructs_lib.core`` only. z3 loads on first use of a
solver-backed name, so that the plain data types import quickly (the constructs record a ``Design``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from constructs_lib.core.prover.catalog import CONTROL_ACTIONS, CRYPTO_ACTIONS, KMS_ACTIONS
from constructs_lib.core.prover.model import (
    Decision,
    Design,
    Evidence,
    PolicyFormatError,
    PropertyResult,
    Request,
    Verdict,
)

if TYPE_CHECKING:
    from constructs_lib.core.prover.budget import Budget
    from constructs_lib.core.prover.evaluate import decide
    from constructs_lib.core.prover.properties import (
        ALL_PROPERTIES,
        GUARDRAIL_PROPERTIES,
        TITLES,
        CannotProveError,
        new_access,
        prove,
    )

_SOLVER_BACKED = {
    "Budget": "constructs_lib.core.prover.budget",
    "decide": "constructs_lib.core.prover.evaluate",
    "ALL_PROPERTIES": "constructs_lib.core.prover.properties",
    "GUARDRAIL_PROPERTIES": "constructs_lib.core.prover.properties",
    "TITLES": "constructs_lib.core.prover.properties",
    "CannotProveError": "constructs_lib.core.prover.properties",
    "new_access": "constructs_lib.core.prover.properties",
    "prove": "constructs_lib.core.prover.properties",
}

__all__ = [
    "ALL_PROPERTIES",
    "CONTROL_ACTIONS",
    "CRYPTO_ACTIONS",
    "GUARDRAIL_PROPERTIES",
    "KMS_ACTIONS",
    "TITLES",
    "Budget",
    "CannotProveError",
    "Decision",
    "Design",
    "Evidence",
    "PolicyFormatError",
    "PropertyResult",
    "Request",
    "Verdict",
    "decide",
    "new_access",
    "prove",
]


def __getattr__(name: str) -> Any:
    module = _SOLVER_BACKED.get(name)
    if module is None:
        raise AttributeError(f"module 'constructs_lib.core.prover' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
