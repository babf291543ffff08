"""Jekyll's own rules: the site's settings, a post's front matter and Liquid, read as Jekyll
reads them."""
