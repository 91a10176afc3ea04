"""Equation discovery (symbolic regression) with a scikit-learn estimator, :class:`EquationSearch`.

``EquationSearch(...).fit(X, y, units=...)`` returns a Pareto front of complexity versus loss
(``equations_``), a chosen equation (``best_``) and exports to SymPy, LaTeX and PyTorch. Engines sit
behind one small interface (:class:`~.engines.Engine`, registry :data:`~.engines.engines`):

* ``"operon"`` — Operon (Burlacu, Kronberger & Kommenda 2020), C++, through ``pyoperon``: NSGA-II on
  R² and length with Levenberg–Marquardt local search of the coefficients;
* ``"gp"`` — our vectorised NumPy genetic programming (linear scaling, tournaments, subtree
  crossover and mutation, LM on the best individuals' constants, a complexity–loss archive);
* ``"rl"`` — deep symbolic regression (Petersen et al. 2021): a PyTorch GRU policy samples
  expressions token by token under in-situ constraints and is trained by risk-seeking policy
  gradient (:mod:`.rl`);
* ``"hybrid"`` — the policy trains for 30% of the budget, then its best expressions seed the
  ``gp`` population for the rest (:mod:`.hybrid`).

Default engine: ``"operon"``. Measured with ``benchmarks/feynman.py`` on the first 10 AI Feynman
equations (noise 0, 10,000 points, 75/25 split, one seed, 20 CPU-seconds per equation, on a shared
2-core machine)::

    method            symbolic solution   R² > 0.999 (test)   median size   median CPU s
    scientia-operon   4/10                8/10                28            21.6
    scientia-gp       3/10                5/10                24            21.3

(CPU s include the polishing of the front.) Both solved I.12.1 and I.12.4; Operon also I.6.2a
(``0.398942*exp(-theta**2/2)``) and I.11.19 (``x1*y1 + x2*y2 + x3*y3``), gp also I.12.2. Operon's
budget is cut into wall-clock increments, so its runs vary with machine load: an earlier run of the
same protocol (before the polishing budget was capped) solved 5/10, I.12.2 included.

Operon evaluates far more candidates per CPU second (C++, LM on every offspring) and recovers more
equations, with many more accurate fits, at the same budget, so it is the default; ``gp`` needs no
compiled dependency and is the choice when pyoperon is not installed.
(Reproduce: ``python benchmarks/feynman.py --methods scientia-operon,scientia-gp --equations 10
--noise 0 --budget 20 --no-strogatz``.)

``rl`` and ``hybrid`` were measured with the same scoring on 8 easy and 6 harder Feynman equations
(noise 0, one seed, 20 CPU-seconds): symbolic solutions gp 8/14, rl 9/14, hybrid 8/14; test
R² > 0.999 gp 11/14, rl 10/14, hybrid 13/14. ``gp`` solves the easy equations fastest; ``hybrid``
gives the most accurate fits on the harder ones (see ``docs/equations.md``).
"""

from scientia.hypothesize.symbolic.engines import Engine, SearchProblem, engines
from scientia.hypothesize.symbolic.estimator import DEFAULT_ENGINE, EquationSearch, SearchProgress
from scientia.hypothesize.symbolic.front import Equation
from scientia.hypothesize.symbolic.solution import is_symbolic_solution, r2_score
from scientia.hypothesize.symbolic.units import PiGroups, buckingham_pi, parse_units

__all__ = [
    "DEFAULT_ENGINE",
    "Engine",
    "Equation",
    "EquationSearch",
    "PiGroups",
    "SearchProblem",
    "SearchProgress",
    "buckingham_pi",
    "engines",
    "is_symbolic_solution",
    "parse_units",
    "r2_score",
]
