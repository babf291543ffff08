"""Run the W3C feed validator (github.com/w3c/feedvalidator, Python 3) on built feed files.

Run by the validator's own Python (it needs lxml, html5lib and rdflib), not imported by the
tests: ``python tests/w3c_feedvalidator.py CHECKOUT BASE_URL OUTPUT_DIR`` prints one JSON
object per line for each message of the "AA" level (what the online validator shows), with
the file, the message's class (Error or Warning), its name and its text. Each file is
validated with the URL it is served at as its location, as the validator wants.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from urllib.parse import quote


def main(checkout: str, base: str, output: str) -> None:
    sys.path.insert(0, str(Path(checkout) / "src"))
    import feedvalidator  # type: ignore[import-not-found]
    from feedvalidator import compatibility
    from feedvalidator.formatter.text_plain import Formatter  # type: ignore[import-not-found]
    from feedvalidator.logging import Error, ValidationFailure  # type: ignore[import-not-found]

    root = Path(output)
    for path in sorted(root.rglob("*.xml")):
        rel = path.relative_to(root).as_posix()
        kind = "application/atom+xml" if rel.endswith(".atom.xml") else "application/rss+xml"
        try:
            events = feedvalidator.validateStream(
                io.BytesIO(path.read_bytes()),
                firstOccurrenceOnly=1,
                contentType=kind,
                base=base.rstrip("/") + "/" + quote(rel),
            )["loggedEvents"]
        except ValidationFailure as failure:
            events = [failure.event]
        events = compatibility.AA(events)
        for event, text in zip(events, Formatter(events), strict=True):
            level = "error" if isinstance(event, Error) else "warning"
            record = {"file": rel, "level": level, "name": type(event).__name__, "text": text}
            print(json.dumps(record, ensure_ascii=False))
        print(json.dumps({"file": rel, "level": "checked"}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
