"""The access prover: IAM, KMS and S3 policy semantics on z3, for every request at once.

Public API (docs/PROVER.md describes the supported subset and the semantics):

* ``prove(design, evidence, properties=ALL_PROPERTIES) -> list[PropertyResult]``: P1-P6, each
  PASS, FAIL with a counterexample ``Request``, or CANNOT-PROVE with the reasons.
* ``decide(evidence, request, *, account) -> Decision``: one concrete request.
* ``new_access(design, before, after) -> Request | None``: a request ``after`` allows and
  ``before`` does not (raises ``CannotProveError`` when that depends on something not modelled).

Pure: imports z3, the standard library and ``constructs_lib.core`` only.
"""

from constructs_lib.core.prover.catalog import CONTROL_ACTIONS, CRYPTO_ACTIONS, KMS_ACTIONS
from constructs_lib.core.prover.evaluate import decide
from constructs_lib.core.prover.model import (
    Decision,
    Design,
    Evidence,
    PolicyFormatError,
    PropertyResult,
    Request,
    Verdict,
)
from constructs_lib.core.prover.properties import ALL_PROPERTIES, TITLES, CannotProveError, new_access, prove

__all__ = [
    "ALL_PROPERTIES",
    "CONTROL_ACTIONS",
    "CRYPTO_ACTIONS",
    "KMS_ACTIONS",
    "TITLES",
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
