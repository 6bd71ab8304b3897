//! The `ciux` binary: parse arguments, run, print any error once, exit.

use std::process::ExitCode;

fn main() -> ExitCode {
    ciux::cli::main()
}
