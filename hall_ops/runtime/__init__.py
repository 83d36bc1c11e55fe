"""How the hall runs as a deployment: which process leads the scheduled jobs.

``leader.py`` elects one process of a deployment (PostgreSQL advisory lock, Redis lock,
or the only process) to run the scheduler; ``models.py`` records each leader's term.
"""
