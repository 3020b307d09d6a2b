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

/// mimalloc rather than the system allocator: `analyze` keeps tens of small allocations per
/// call, and on Linux with transparent huge pages (`madvise`, the common default) mimalloc
/// takes its memory in huge pages, so the ~20,000 page faults of a 10,000-call capture
/// become a few hundred (`cargo bench --bench throughput`: about a sixth off `analyze` on
/// capture A). It costs a fixed ~20 MiB of resident memory; memory still follows the
/// number of calls, not the capture size. Without huge pages it is as fast as the system's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
