"""Evaluation of rlMetaMazeMisc: the mean return of the agent's 5 checkpoints on gymnax's MetaMaze-misc.

The grader puts rl_grading.py (tasks/rlShared: the shared logic and its checks) and the starter's
helpers.py (its fixture pins) beside this file; the network code is the agent's own src/networks.py.
From the repository: PYTHONPATH=../rlShared:../rlShared/src:../../docker/runtime.
"""
from rl_grading import grade

grade("MetaMaze-misc")
