//! `backlot`: the developer portal in one binary. See `backlot --help`.

fn main() -> std::process::ExitCode {
    server::cli::main()
}
