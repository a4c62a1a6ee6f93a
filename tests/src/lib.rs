//! Workspace-level test suites live in `tests/`.
