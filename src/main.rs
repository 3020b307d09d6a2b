//! The sipdiag binary: parse the command line, run the library, map the outcome to an
//! exit code (0 clean, 1 findings at or above `--fail-on`, 2 sipdiag could not do its job).

use std::process::ExitCode;

use clap::Parser;

/// clap's usage error on one line: the message (with its indented continuation, e.g. the
/// missing arguments or the possible values), clap's tip, and the usage line.
fn one_line(rendered: &str) -> String {
    let mut lines = rendered.lines();
    let mut msg = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string();
    let mut usage = None;
    let mut in_message = true;
    for l in lines {
        let t = l.trim();
        if t.is_empty() {
            in_message = false;
        } else if let Some(tip) = t.strip_prefix("tip: ") {
            msg.push_str(&format!("; {tip}"));
        } else if let Some(u) = t.strip_prefix("Usage: ") {
            usage = Some(u.to_string());
        } else if in_message {
            msg.push(' ');
            msg.push_str(t);
        }
    }
    match usage {
        Some(u) => format!("{msg} (usage: {u})"),
        None => msg,
    }
}

fn main() -> ExitCode {
    let cli = match sipdiag::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print to stdout and exit 0; `sipdiag` alone prints the help
        // (to stderr, exit 2).
        Err(e)
            if !e.use_stderr()
                || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            e.exit()
        }
        Err(e) => {
            eprintln!("sipdiag: {}", one_line(&e.render().to_string()));
            return ExitCode::from(2);
        }
    };
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
