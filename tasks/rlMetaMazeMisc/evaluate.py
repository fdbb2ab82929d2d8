"""Evaluation of rlMetaMazeMisc: the mean return of the agent's 5 checkpoints on gymnax's MetaMaze-misc.

The grader puts rl_grading.py and networks.py (tasks/rlShared) beside this file, where the shared logic
and its checks are. From the repository: PYTHONPATH=../rlShared:../rlShared/src:../../docker/runtime.
"""
from rl_grading import grade

grade("MetaMaze-misc")
