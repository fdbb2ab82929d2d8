"""Evaluation of rlBreakoutMinAtar: the mean return of the agent's 5 checkpoints on gymnax's Breakout-MinAtar.

The grader puts rl_grading.py and networks.py (tasks/rlShared) beside this file, where the shared logic
and its checks are. From the repository: PYTHONPATH=../rlShared:../rlShared/src:../../docker/runtime.
"""
from rl_grading import grade

grade("Breakout-MinAtar")
