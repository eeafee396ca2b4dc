"""Root causes of the mismatches of the committed agreement run, keyed ``<scenario>/<job>``.

Filled in after investigating each mismatch (vc-scheduler log at -v=4, Volcano source);
:mod:`.run_agreement` puts them into the report next to the mismatch they explain.
"""

from __future__ import annotations

EXPLANATIONS: dict[str, str] = {}
