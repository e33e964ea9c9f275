"""Tests of the developer tooling (devtools/)."""
