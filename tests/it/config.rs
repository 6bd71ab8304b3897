//! Configuration files through the CLI.
