//! The `imagespec` binary.

fn main() -> std::process::ExitCode {
    imagespec_cli::main()
}
