//! The sipdiag binary: parse the command line, run the library, map the outcome to an
//! exit code (0 clean, 1 findings at or above `--fail-on`, 2 sipdiag could not do its job).

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use sipdiag::cli::Cli;

/// The `--color` choice for clap's help, from the raw arguments (`--color X`,
/// `--color=X`; the last one counts, as for the parsed flag). clap's `auto` already
/// honours NO_COLOR.
fn help_color(args: impl Iterator<Item = std::ffi::OsString>) -> clap::ColorChoice {
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    let mut choice = clap::ColorChoice::Auto;
    for (i, a) in args.iter().enumerate() {
        if a == "--" {
            break;
        }
        let value = match a.strip_prefix("--color") {
            Some("") => args.get(i + 1).map(String::as_str),
            Some(v) => v.strip_prefix('='),
            None => None,
        };
        match value {
            Some("always") => choice = clap::ColorChoice::Always,
            Some("never") => choice = clap::ColorChoice::Never,
            Some("auto") => choice = clap::ColorChoice::Auto,
            _ => {}
        }
    }
    choice
}

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
    #[cfg(feature = "mimalloc")]
    give_freed_memory_back_soon();
    // clap's own help follows --color too; it is read before the rest is parsed.
    let color = help_color(std::env::args_os().skip(1));
    let parsed = Cli::command()
        .color(color)
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
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
/// capture A). Its arenas are committed as they are used, not up front (the define in
/// `.cargo/config.toml`): eager commit cost ~20 MiB of resident memory and no speed.
/// Without huge pages it is as fast as the system's. `--no-default-features` builds
/// without it, with the system's allocator, for heap profilers that follow malloc.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc 3 keeps the memory it has freed for a second before it gives it back to the
/// system (its `purge_delay`; version 2 waited 10 ms). A streaming command frees what it
/// allocates as fast as it goes, so a second of freed calls and rows stays resident:
/// `media` on the 1,000,000-call scale capture peaks at 71–82 MiB with the second and at
/// 51–52 MiB with 10 ms (`cargo bench --bench scale`). Giving memory back costs system
/// time: paired runs, `media` there took 16.5 s against 14.8 s, `analyze` on the
/// 100,000-call capture 2.62 s against 2.50 s.
#[cfg(feature = "mimalloc")]
fn give_freed_memory_back_soon() {
    use std::ffi::{c_int, c_long};
    // `mi_option_purge_delay` in mimalloc 3's `mimalloc.h`: the library is linked for
    // `GLOBAL`, and its Rust bindings name no constant for this option.
    const PURGE_DELAY: c_int = 15;
    unsafe extern "C" {
        fn mi_option_get(option: c_int) -> c_long;
        fn mi_option_set(option: c_int, value: c_long);
    }
    // SAFETY: both read or write one integer of mimalloc's option table, and only this
    // thread runs yet. The option is set only where it reads its documented default, so
    // that a version with other numbers changes nothing.
    unsafe {
        if mi_option_get(PURGE_DELAY) == 1000 {
            mi_option_set(PURGE_DELAY, 10);
        }
    }
}
