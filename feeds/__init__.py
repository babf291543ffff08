"""feeds: RSS 2.0 and Atom 1.0 feeds for a Jekyll news site.

The data flow is visible in the module names:
collect → normalize → store → plan → generate → write, tied together by
``pipeline.run_once`` (``feeds check`` goes down the same road, writing nothing).
"""

__version__ = "0.2.0"
