"""The platform every part stands on: errors, the one Result type and its reporters, the
plugin host with its hookspecs and registries, and the files users name.

A new output format is a `Reporter` returned from a plugin's `register_reporters` hook; a new
solver a `Solver` from `register_solvers` (docs/plugins.md)."""

VERSION = "0.1.0"
