//! `pattern test` of captures reads them as a stream (the site as `analyze` infers it,
//! then the numbers): the same result as with every call held (`--in-memory`).

mod common;

use common::{fixtures_and_corpus, sipdiag, split_pcap, testdata};

/// Standard output, standard error and exit code of `pattern test ARGS`, streamed and
/// held, are the same.
fn same(args: &[&str]) -> bool {
    let streamed = sipdiag(args);
    let mut held_args = args.to_vec();
    held_args.insert(2, "--in-memory");
    let held = sipdiag(&held_args);
    assert_eq!(streamed.stdout, held.stdout, "{args:?}");
    assert_eq!(
        String::from_utf8_lossy(&streamed.stderr),
        String::from_utf8_lossy(&held.stderr),
        "{args:?}"
    );
    assert_eq!(streamed.status.code(), held.status.code(), "{args:?}");
    // Whether the capture had numbers to test (else the command says there is nothing).
    streamed.status.code() != Some(2)
}

#[test]
fn pattern_test_of_every_capture_is_that_of_every_call_held() {
    let rewrite = r"^00(\d+)$=>+$1";
    let mut with_numbers = 0;
    for file in fixtures_and_corpus(&["followme", "diag", "ipoffice", "calls", "media"]) {
        let file = file.to_str().unwrap();
        for format in ["json", "table"] {
            let args = [
                "pattern",
                "test",
                "--format",
                format,
                "--rewrite",
                rewrite,
                file,
            ];
            with_numbers += usize::from(same(&args) && format == "json");
        }
    }
    // The Follow-Me fixtures alone have more.
    assert!(with_numbers >= 20, "{with_numbers}");
}

/// `pattern test --format json` with one rewrite of `files`.
fn json_args<'a>(files: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut args = vec![
        "pattern",
        "test",
        "--format",
        "json",
        "--rewrite",
        r"^00(\d+)$=>+$1",
    ];
    args.extend(files);
    args
}

#[test]
fn pattern_test_of_several_files_reads_them_merged() {
    let pbx = testdata("followme/merge-pbx-side.pcap");
    let xcc = testdata("followme/merge-xcc-side.pcapng");
    assert!(same(&json_args([
        pbx.to_str().unwrap(),
        xcc.to_str().unwrap()
    ])));
    // A rotated set: the whole file's numbers and site.
    let whole = testdata("followme/busy-site.pcap");
    let dir = tempfile::tempdir().unwrap();
    let mut parts = split_pcap(&whole, 40, dir.path());
    parts.reverse();
    let args = json_args(parts.iter().map(String::as_str));
    assert!(same(&args));
    let got: serde_json::Value = serde_json::from_slice(&sipdiag(&args).stdout).unwrap();
    let want: serde_json::Value =
        serde_json::from_slice(&sipdiag(&json_args([whole.to_str().unwrap()])).stdout).unwrap();
    assert_eq!(got["results"], want["results"]);
    assert!(!want["results"].as_array().unwrap().is_empty());
}
