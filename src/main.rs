//! The sipdiag binary: parse the command line, run the library, map the outcome to an
//! exit code (0 clean, 1 findings at or above `--fail-on`, 2 sipdiag could not do its job).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = sipdiag::cli::Cli::parse();
    match sipdiag::app::run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("sipdiag: {e:#}");
            ExitCode::from(2)
        }
    }
}
