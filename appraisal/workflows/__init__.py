"""Deterministic workflow code only: the standard library, temporalio and
appraisal.domain. Activities come in through imports_passed_through()."""
