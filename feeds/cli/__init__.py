"""The command line: arguments, the commands, and the one place that maps errors to exit codes."""
