"""The Python example of docs/equations.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "equations.md"


def test_docs_example_runs(capsys):
    # the first ```python block runs and recovers the law it promises
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    code = code.replace("time_limit=10", "time_limit=3")  # keep the test short
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out
    assert "G*m1*m2/r**2" in out and "True" in out
