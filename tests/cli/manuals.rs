//! The manual pages in `completions/`, generated from the clap definitions: `sipdiag.1` and
//! one page per visible subcommand (`sipdiag-analyze.1`, `sipdiag-pattern-test.1`, …), each
//! ending with a SEE ALSO section naming its parent and its own subcommands' pages.

use clap::CommandFactory;

/// Every page as (file name, roff text), the top level first.
pub fn manual_pages() -> Vec<(String, Vec<u8>)> {
    // No `help` subcommand in the manual: `sipdiag-help(1)` would name a page nobody wrote.
    let mut cmd = sipdiag::cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    collect(&cmd, None, &mut pages);
    pages
}

fn page_name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string()
}

fn collect(cmd: &clap::Command, parent: Option<&str>, pages: &mut Vec<(String, Vec<u8>)>) {
    let name = page_name(cmd);
    let man = clap_mangen::Man::new(cmd.clone());
    let mut text = Vec::new();
    man.render(&mut text).expect("render to memory");
    let subs: Vec<&clap::Command> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
    let mut see_also: Vec<String> = parent.map(str::to_string).into_iter().collect();
    see_also.extend(subs.iter().map(|s| page_name(s)));
    if !see_also.is_empty() {
        text.extend_from_slice(b".SH \"SEE ALSO\"\n");
        let refs: Vec<String> = see_also
            .iter()
            // `\%`: a page name is never hyphenated at a line end.
            .map(|p| format!("\\%\\fB{}\\fR(1)", p.replace('-', "\\-")))
            .collect();
        text.extend_from_slice(refs.join(",\n").as_bytes());
        text.push(b'\n');
    }
    pages.push((format!("{name}.1"), text));
    for sub in subs {
        collect(sub, Some(&name), pages);
    }
}
