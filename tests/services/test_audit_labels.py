"""The change log reads in words (issue 15: "readable change log"): every action code the
code writes to the audit log has a label, so no page shows a bare code like
`paper.print`."""
from __future__ import annotations

import ast
from pathlib import Path

from quizapp.services.people.audit import ACTION_LABELS

PACKAGE = Path(__file__).resolve().parents[2] / "quizapp"


def _logged_actions() -> dict[str, str]:
    """Action code → where it is written: the second argument of every `audit.log(...)`
    (or `log(...)` inside the audit module's callers) that is a string constant."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            func = node.func
            if not (isinstance(func, ast.Attribute) and func.attr == "log"
                    and isinstance(func.value, ast.Name) and func.value.id == "audit"):
                continue
            code = node.args[1]
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                found.setdefault(code.value, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def test_every_logged_action_has_words_in_the_change_log():
    logged = _logged_actions()
    assert {"round.finalize", "paper.print", "paper.enter"} <= set(logged)   # the scan works
    missing = [f"{code} ({where})" for code, where in sorted(logged.items()) if code not in ACTION_LABELS]
    assert missing == []
