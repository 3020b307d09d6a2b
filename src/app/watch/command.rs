//! The `watch` command itself: the judge set up from the options, the captures read
//! (files one after the other, a file that grows, an interface), the closing summary
//! printed and the exit code.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cli::{MediaPortArgs, WatchArgs, WatchFormat};
use crate::report::analysis::TextOptions;
use crate::report::watch::{end_json, end_text};

use super::input::{follow_set, live, read_one, stop_on_signals};
use super::setup::JudgeSetup;
use super::{Judge, print};

pub(in crate::app) fn watch(args: &WatchArgs, color: bool) -> anyhow::Result<u8> {
    let ports = MediaPortArgs {
        softphone_port: args.softphone_port,
        ..MediaPortArgs::default()
    };
    let judge = Judge::new(&JudgeSetup {
        site: &args.site,
        ports: &ports,
        judge: &args.judge,
        format: args.format,
        text: TextOptions {
            color,
            verbose: args.verbose,
            width: crate::report::terminal_width(),
        },
    })?;
    let judge = Arc::new(Mutex::new(judge));
    let mut errors = Vec::new();
    let until_idle = args
        .until_idle
        .map(|s| {
            anyhow::ensure!(
                s.is_finite() && s >= 0.0,
                "--until-idle {s}: seconds must be 0 or more"
            );
            anyhow::ensure!(
                args.follow.is_some() || args.interface.is_some(),
                "--until-idle applies to --follow and -i (a finished capture ends by itself)"
            );
            Ok(Duration::from_secs_f64(s))
        })
        .transpose()?;
    if args.interface.is_some() || args.follow.is_some() {
        stop_on_signals()?;
    }
    match (&args.interface, &args.follow) {
        (Some(iface), _) => {
            let filter = args.captures.join(" ");
            live(iface, &filter, until_idle, &judge, &mut errors)?;
        }
        (None, Some(path)) => follow_set(path, until_idle, &judge, &mut errors),
        (None, None) => {
            for path in &args.captures {
                read_one(path, None, &judge, &mut errors);
            }
        }
    }
    if crate::capture::follow::stop_requested() {
        eprintln!("sipdiag: stopped; judging the calls in progress");
    }
    let mut j = judge.lock().unwrap_or_else(|e| e.into_inner());
    let capture_findings = j.end_of_input();
    j.end.capture_findings = capture_findings;
    print(&match args.format {
        WatchFormat::Json => end_json(&j.end, j.files.several()),
        WatchFormat::Table => end_text(&j.end, &j.text, j.files.several()),
    });
    let failing = j.failing;
    drop(j);
    crate::app::finish(errors)?;
    Ok(u8::from(failing))
}
