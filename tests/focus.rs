//! `analyze` with a focus (`--call-id`, `--number`, `--ip`, `--since`) and `flow` on one
//! file are read as a stream, their memory following the calls in progress and the calls
//! shown: their output is the one of `--in-memory`, which holds every call and selects
//! from them, byte for byte and with the same exit code, on every fixture and public
//! corpus capture — for the first, the middle and the last call of each, the number of
//! the first, an address and a time (`analyze`), and every call (`flow`). So does
//! `extract` of one file find the calls it cuts out: the same pcapng, byte for byte; and
//! `analyze --flow` draw the same failed calls, and `analyze --annotate` write the same
//! annotated copy.

mod common;

use std::path::Path;

/// The Call-IDs of the capture's calls (in order) and the first call's caller, as `calls`
/// lists them; nothing when it lists no call.
fn calls_of(path: &Path) -> (Vec<String>, Option<String>) {
    let out = common::sipdiag(&["calls", "--format", "json", &path.to_string_lossy()]);
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        return (Vec::new(), None);
    };
    let calls = v["calls"].as_array().cloned().unwrap_or_default();
    let ids = (calls.iter())
        .filter_map(|c| c["call_id"].as_str().map(str::to_string))
        .collect();
    let from = calls
        .first()
        .and_then(|c| c["from"].as_str().map(str::to_string));
    (ids, from)
}

/// The focuses tried on every capture: the Call-ID of its first call and, when it has
/// one, that call's caller (`--number`); with the capture's Call-IDs. `None` when `calls`
/// lists no call.
fn first_focuses(path: &Path) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let (ids, from) = calls_of(path);
    let mut focuses = vec![vec!["--call-id".to_string(), ids.first()?.clone()]];
    focuses.extend(from.map(|n| vec!["--number".to_string(), n]));
    Some((ids, focuses))
}

/// Each capture of `dirs` that has calls, twice: without a focus, then with the first of
/// [`first_focuses`].
fn unfocused_and_first(dirs: &[&str]) -> Vec<(std::path::PathBuf, Vec<String>)> {
    let mut runs = Vec::new();
    for path in common::fixtures_and_corpus(dirs) {
        let Some((_, focuses)) = first_focuses(&path) else {
            continue;
        };
        runs.push((path.clone(), Vec::new()));
        runs.push((path, focuses[0].clone()));
    }
    runs
}

/// `focus` as arguments.
fn args(focus: &[String]) -> Vec<&str> {
    focus.iter().map(String::as_str).collect()
}

/// The JSON report and exit code of `analyze` with `focus`, streamed or `--in-memory`.
fn analyze(path: &Path, focus: &[&str], in_memory: bool) -> (Option<i32>, Vec<u8>, Vec<u8>) {
    let mut args = vec!["analyze", "--format", "json", "--fail-on", "none"];
    if in_memory {
        args.push("--in-memory");
    }
    args.extend_from_slice(focus);
    let path = path.to_string_lossy();
    args.push(&path);
    let out = common::sipdiag(&args);
    (out.status.code(), out.stdout, out.stderr)
}

#[test]
fn a_focused_report_streamed_is_the_one_of_every_call_held() {
    let dirs = [
        "calls", "diag", "extract", "followme", "gallery", "ipoffice", "media", "redact",
    ];
    let (mut compared, mut shown, mut findings) = (0, 0, 0);
    for path in common::fixtures_and_corpus(&dirs) {
        let Some((ids, mut focuses)) = first_focuses(&path) else {
            continue;
        };
        let middle = &ids[ids.len() / 2];
        let last = ids.last().expect("one call at least");
        for more in [["--call-id", middle], ["--call-id", last]]
            .into_iter()
            .chain([["--ip", "127.0.0.10"], ["--since", "12:00"]])
        {
            focuses.push(more.map(str::to_string).to_vec());
        }
        for focus in &focuses {
            let focus = &args(focus)[..];
            let streamed = analyze(&path, focus, false);
            let held = analyze(&path, focus, true);
            let what = format!("{} {}", path.display(), focus.join(" "));
            assert_eq!(streamed.0, held.0, "{what}: exit codes differ");
            assert!(streamed.1 == held.1, "{what}: the reports differ");
            assert_eq!(
                String::from_utf8_lossy(&streamed.2),
                String::from_utf8_lossy(&held.2),
                "{what}"
            );
            compared += 1;
            if streamed.0 == Some(0) {
                let v: serde_json::Value = serde_json::from_slice(&streamed.1).unwrap();
                shown += 1;
                findings += usize::from(!common::ids(&v).is_empty());
            }
        }
    }
    eprintln!("{compared} focuses compared, {shown} showing calls, {findings} with findings");
    assert!(compared >= 300, "{compared} focuses compared");
    assert!(
        shown >= 200 && findings >= 50,
        "{shown} shown, {findings} with findings"
    );
}

/// The ladder (`text` 120 columns wide, `mermaid`) and exit code of `flow` with `focus`,
/// streamed or `--in-memory`.
fn flow(path: &Path, format: &str, focus: &[&str], in_memory: bool) -> (Option<i32>, Vec<u8>) {
    let mut args = vec!["flow", "--format", format];
    if in_memory {
        args.push("--in-memory");
    }
    args.extend_from_slice(focus);
    let path = path.to_string_lossy();
    args.push(&path);
    text_of(&args)
}

/// Exit code and output (standard output, then error) of `args`, 120 columns wide.
fn text_of(args: &[&str]) -> (Option<i32>, Vec<u8>) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipdiag"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120")
        .output()
        .expect("run sipdiag");
    (out.status.code(), [out.stdout, out.stderr].concat())
}

/// `analyze --flow` of one file is read as a stream too (the report, then the failed
/// calls found again without rules, then their messages): the report and its ladders
/// are those of `--in-memory`, as a table and in markdown, with and without a focus.
#[test]
fn the_ladders_of_analyze_streamed_are_those_of_every_call_held() {
    let dirs = ["calls", "diag", "followme", "gallery", "media"];
    let (mut compared, mut ladders) = (0, 0);
    for (path, focus) in unfocused_and_first(&dirs) {
        let path_arg = path.to_string_lossy();
        for format in ["table", "markdown"] {
            let mut streamed = vec!["analyze", "--flow", "--format", format];
            streamed.extend(args(&focus));
            streamed.push(&path_arg);
            let held = [&streamed[..2], &["--in-memory"], &streamed[2..]].concat();
            let (streamed, held) = (text_of(&streamed), text_of(&held));
            let what = format!("{} {format} {}", path.display(), focus.join(" "));
            assert_eq!(streamed.0, held.0, "{what}: exit codes differ");
            assert!(
                streamed.1 == held.1,
                "{what}: the reports differ\n{}\n---\n{}",
                String::from_utf8_lossy(&streamed.1),
                String::from_utf8_lossy(&held.1)
            );
            compared += 1;
            let text = String::from_utf8_lossy(&streamed.1);
            ladders += text.matches("Call flow ").count();
        }
    }
    eprintln!("{compared} reports with --flow compared, {ladders} ladders");
    assert!(
        compared >= 200 && ladders >= 200,
        "{compared} reports, {ladders} ladders"
    );
}

#[test]
fn a_ladder_streamed_is_the_one_of_every_call_held() {
    let dirs = ["calls", "diag", "extract", "followme", "gallery", "media"];
    let (mut compared, mut arrows) = (0, 0);
    for path in common::fixtures_and_corpus(&dirs) {
        let Some((_, mut focuses)) = first_focuses(&path) else {
            continue;
        };
        focuses.push(Vec::new());
        for focus in &focuses {
            let focus = &args(focus)[..];
            for format in ["text", "mermaid"] {
                let streamed = flow(&path, format, focus, false);
                let held = flow(&path, format, focus, true);
                let what = format!("{} {format} {}", path.display(), focus.join(" "));
                assert_eq!(streamed.0, held.0, "{what}: exit codes differ");
                assert!(streamed.1 == held.1, "{what}: the ladders differ");
                compared += 1;
                arrows += String::from_utf8_lossy(&streamed.1).matches("->>").count();
            }
        }
    }
    eprintln!("{compared} ladders compared, {arrows} mermaid arrows");
    assert!(
        compared >= 300 && arrows >= 1000,
        "{compared} ladders, {arrows} arrows"
    );
}

/// The exit code, output and written pcapng of `command` (whose `OUT` stands for the file
/// it writes) with `focus`, streamed or `--in-memory`.
fn written(
    command: &[&str],
    path: &Path,
    focus: &[&str],
    in_memory: bool,
) -> (Option<i32>, String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pcapng");
    let out_arg = out.to_string_lossy().to_string();
    let mut args: Vec<&str> = (command.iter())
        .map(|&a| if a == "OUT" { out_arg.as_str() } else { a })
        .collect();
    if in_memory {
        args.push("--in-memory");
    }
    args.extend_from_slice(focus);
    let path = path.to_string_lossy();
    args.push(&path);
    let run = common::sipdiag(&args);
    let said = String::from_utf8_lossy(&[run.stdout, run.stderr].concat()).replace(&out_arg, "OUT");
    (
        run.status.code(),
        said,
        std::fs::read(&out).unwrap_or_default(),
    )
}

/// `extract` with `focus` (see [`written`]).
fn extract(path: &Path, focus: &[&str], in_memory: bool) -> (Option<i32>, String, Vec<u8>) {
    written(&["extract", "-o", "OUT"], path, focus, in_memory)
}

#[test]
fn an_extract_of_one_file_streamed_is_the_one_of_every_call_held() {
    let dirs = ["calls", "followme", "gallery", "media"];
    let (mut compared, mut frames) = (0, 0);
    for path in common::fixtures_and_corpus(&dirs) {
        let Some((_, focuses)) = first_focuses(&path) else {
            continue;
        };
        for focus in &focuses {
            let focus = &args(focus)[..];
            let streamed = extract(&path, focus, false);
            let held = extract(&path, focus, true);
            let what = format!("{} {}", path.display(), focus.join(" "));
            assert_eq!(streamed.0, held.0, "{what}: exit codes differ");
            assert_eq!(streamed.1, held.1, "{what}");
            assert!(streamed.2 == held.2, "{what}: the pcapng files differ");
            compared += 1;
            frames += usize::from(streamed.2.len() > 1000);
        }
    }
    eprintln!("{compared} extracts compared, {frames} of more than 1000 bytes");
    assert!(
        compared >= 100 && frames >= 50,
        "{compared} compared, {frames} with frames"
    );
}

/// `analyze --annotate` with `focus` (see [`written`]).
fn annotated(path: &Path, focus: &[&str], in_memory: bool) -> (Option<i32>, String, Vec<u8>) {
    let command = ["analyze", "--format", "json", "--annotate", "OUT"];
    written(&command, path, focus, in_memory)
}

/// `analyze --annotate` of one file is read as a stream, gathering the findings' comments
/// as they come: the annotated copy is the one of `--in-memory`, byte for byte, with and
/// without a focus.
#[test]
fn an_annotated_copy_streamed_is_the_one_of_every_call_held() {
    let dirs = ["calls", "diag", "followme", "gallery", "media"];
    let (mut compared, mut commented) = (0, 0);
    for (path, focus) in unfocused_and_first(&dirs) {
        let focus = &args(&focus)[..];
        let streamed = annotated(&path, focus, false);
        let held = annotated(&path, focus, true);
        let what = format!("{} {}", path.display(), focus.join(" "));
        assert_eq!(streamed.0, held.0, "{what}: exit codes differ");
        assert!(streamed.1 == held.1, "{what}: the reports differ");
        assert!(streamed.2 == held.2, "{what}: the annotated copies differ");
        compared += 1;
        let comments = String::from_utf8_lossy(&streamed.2)
            .matches("sipdiag ")
            .count();
        commented += usize::from(comments > 0);
    }
    eprintln!("{compared} annotated copies compared, {commented} with comments");
    assert!(
        compared >= 200 && commented >= 150,
        "{compared} compared, {commented} with comments"
    );
}

/// The JSON document of `sipdiag ARGS… PATH`, and its exit code.
fn json_of(args: &[&str], path: &Path) -> (Option<i32>, serde_json::Value) {
    let path = path.to_string_lossy();
    let out = common::sipdiag(&[args, &[path.as_ref()]].concat());
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), v)
}

/// `calls`, `messages` and `media` with a focus on one file find the calls as `analyze`
/// does, as a stream: their rows (the RTP streams and SDP announcements of `media`) are
/// those of the calls `analyze --in-memory` shows with that focus, as the rows of the
/// whole capture list them; the rest of the `media` report is the whole capture's.
#[test]
fn calls_and_messages_with_a_focus_list_the_calls_analyze_selects() {
    let dirs = ["calls", "followme", "gallery", "media"];
    let (mut compared, mut rows) = (0, 0);
    for path in common::fixtures_and_corpus(&dirs) {
        let Some((_, focuses)) = first_focuses(&path) else {
            continue;
        };
        let (_, all_calls) = json_of(&["calls", "--format", "json"], &path);
        let (_, all_messages) = json_of(&["messages", "--format", "json"], &path);
        let (_, all_media) = json_of(&["media", "--format", "json"], &path);
        for focus in &focuses {
            let focus = &args(focus)[..];
            let what = format!("{} {}", path.display(), focus.join(" "));
            let held = [&["analyze", "--format", "json", "--in-memory"], focus].concat();
            let (code, analysis) = json_of(&held, &path);
            let shown: Vec<&str> = (analysis["calls"].as_array())
                .map(|cs| cs.iter().filter_map(|c| c["call_id"].as_str()).collect())
                .unwrap_or_default();
            let (calls_code, calls) =
                json_of(&[&["calls", "--format", "json"], focus].concat(), &path);
            let (messages_code, messages) =
                json_of(&[&["messages", "--format", "json"], focus].concat(), &path);
            let (media_code, media) =
                json_of(&[&["media", "--format", "json"], focus].concat(), &path);
            if code == Some(2) {
                let codes = (calls_code, messages_code, media_code);
                assert_eq!(codes, (Some(2), Some(2), Some(2)), "{what}");
                continue;
            }
            let kept = |rows: &serde_json::Value| -> Vec<serde_json::Value> {
                (rows.as_array().unwrap().iter())
                    .filter(|r| r["call_id"].as_str().is_some_and(|id| shown.contains(&id)))
                    .cloned()
                    .collect()
            };
            assert_eq!(
                calls["calls"].as_array().unwrap(),
                &kept(&all_calls["calls"]),
                "{what}"
            );
            assert_eq!(
                messages["messages"].as_array().unwrap(),
                &kept(&all_messages["messages"]),
                "{what}"
            );
            let mut expected = all_media.clone();
            for key in ["rtp", "announced"] {
                expected["media"][key] = serde_json::Value::Array(kept(&all_media["media"][key]));
            }
            assert!(media == expected, "{what}: media differs");
            compared += 1;
            rows += calls["calls"].as_array().unwrap().len();
        }
    }
    eprintln!("{compared} focuses compared, {rows} call rows");
    assert!(
        compared >= 100 && rows >= 100,
        "{compared} compared, {rows} rows"
    );
}
