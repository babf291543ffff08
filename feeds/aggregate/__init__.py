"""Remote sources: the fetch round (due -> fetch -> parse -> normalize -> save) and the pure
source-state rules."""
