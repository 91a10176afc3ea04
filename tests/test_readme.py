"""The README's Python example runs as written, and its benchmark numbers match the results."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(tmp_path, monkeypatch):
    # every ```python block of the README executes without error (in a scratch folder)
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "the README has no Python example"
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "lab.sqlite").exists()


def test_reaction_benchmark_numbers_match_the_results_file():
    # the README's BO table is copied from benchmarks/results/reaction_bo.json: keep them equal
    import json

    results = README.parent / "benchmarks" / "results" / "reaction_bo.json"
    summary = json.loads(results.read_text(encoding="utf-8"))["summary"]
    text = README.read_text(encoding="utf-8")
    methods = ["scientia-descriptors+onehot", "scientia-onehot", "baybe", "random"]
    for table, label in (("suzuki_miyaura", "Suzuki–Miyaura"), ("buchwald_hartwig", "Buchwald–Hartwig")):
        row = re.search(rf"^\| {label} \| (.+) \|$", text, re.M)
        assert row, label
        quoted = [float(x) for x in row.group(1).split(" | ")]
        assert quoted == [summary[table]["methods"][m]["median_to_top1"] for m in methods]
