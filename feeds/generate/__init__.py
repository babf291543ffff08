"""One build, from posts and stored entries to published files: plan -> render -> feed
documents (feedgen) -> write feeds, archives, pages and discovery files -> publish."""
