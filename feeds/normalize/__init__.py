"""Collector output and Jekyll posts -> ``Entry``. Pure: no I/O, ``now`` is passed in."""
