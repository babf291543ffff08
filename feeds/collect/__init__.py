"""Collectors: the only modules that read inputs from the outside world."""
