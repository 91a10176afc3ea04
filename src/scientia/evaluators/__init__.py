"""Evaluators: a Python function, an emulator over a real lookup table, or a person (manual)."""

from scientia.evaluators.basic import EmulatorEvaluator, FunctionEvaluator, ManualEvaluator

__all__ = ["EmulatorEvaluator", "FunctionEvaluator", "ManualEvaluator"]
