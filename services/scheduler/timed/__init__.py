"""Timed jobs: APScheduler with its job store in the scheduler's own database, run by
whichever replica holds the leader lease."""
