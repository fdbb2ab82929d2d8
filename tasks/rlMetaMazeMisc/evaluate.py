"""Evaluation of rlMetaMazeMisc: the mean return of the agent's 5 checkpoints on gymnax's MetaMaze-misc.

Run: python3 evaluate.py, with rl_grading.py and networks.py (from ../rlShared) beside it, or from this
task's folder; MLGYM_WORKSPACE is the workspace holding config.yaml and checkpoints/, MLGYM_SPLIT picks
the split. The shared logic and its checks are in ../rlShared/rl_grading.py.
"""
import os
import sys

# The grader container holds the shared files beside this one; in the repository they are in ../rlShared.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "rlShared"), os.path.join(HERE, "..", "rlShared", "src")]

from rl_grading import grade  # noqa: E402

grade("MetaMaze-misc")
