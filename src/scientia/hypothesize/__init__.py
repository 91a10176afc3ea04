"""AI-based generation of hypotheses: equation discovery (:mod:`scientia.hypothesize.symbolic`).

Nothing is imported here: each toolkit pulls its own heavy dependencies (SymPy, pyoperon, torch)
when it is imported.
"""
