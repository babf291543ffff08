"""The YAML configuration: one table of keys, their readers and the frozen config objects."""
