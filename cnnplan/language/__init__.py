"""The text users write: layer specs, plan files, `--where` constraints, NAME=VALUE options."""
