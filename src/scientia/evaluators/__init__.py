"""Evaluators: a Python function, an emulator over a real lookup table, or a person (manual)."""

from scientia.evaluators.basic import EmulatorEvaluator, FunctionEvaluator, ManualEvaluator
from scientia.evaluators.model import ModelEmulator

__all__ = ["EmulatorEvaluator", "FunctionEvaluator", "ManualEvaluator", "ModelEmulator"]
