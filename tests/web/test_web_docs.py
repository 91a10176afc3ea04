"""docs/web.md: its example runs as written (a real `scientia serve` and a script calling it)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "web.md"


def test_web_doc_example_runs(tmp_path):
    # init → queue --propose → serve with a token → a script reads the queue and approves one
    script = re.search(r"```bash\n(# 1\..*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert script is not None
    bindir = Path(sys.executable).parent
    if not (bindir / "scientia").exists():
        pytest.skip("the scientia console script is not installed next to this Python")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "examples").mkdir()
    shutil.copy(REPO / "examples" / "manual.toml", tmp_path / "examples" / "manual.toml")
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}", "OMP_NUM_THREADS": "1"}
    for key in ("SCIENTIA_LEDGER", "SCIENTIA_TOKEN"):
        env.pop(key, None)
    out = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.group(1).replace("8765", str(port))],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr
    assert "[('r0000.0', 'awaiting')," in out.stdout
    assert "approved r0000.0" in out.stdout
    from scientia.ledger import Ledger

    store = Ledger(str(tmp_path / "lab.sqlite"), create=False)
    try:
        (review,) = store.events(1, kinds=["review"])
    finally:
        store.close()
    assert review.actor == "alice" and review.payload["decision"] == "approve"
