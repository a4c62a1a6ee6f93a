//! `imagespec-with-archive`: the imagespec command line plus the `context-dir` builder.

fn main() -> std::process::ExitCode {
    imagespec_example_custom_builder::link();
    imagespec_cli::main()
}
