fn main() -> std::process::ExitCode {
    parota::cli::run()
}
