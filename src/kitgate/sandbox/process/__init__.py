"""Process layer: the processes an isolated job runs in, and the parent's handle on them.

Why a layer: isolation is a matter of processes, limits and sockets, not of Python rules.
forkserver.py (the warm server that forks a child per job), child.py (the job child), rlimits.py
(its limits), procstat.py (run-queue wait), handle.py (the parent's handle on the server),
snapshots.py (what the parent knows of the server's copy of the scene).
"""
