//! `calls`: one row per call (Call-ID, frames, From/To, the forwarding chain, methods,
//! the INVITE's result), as a drawn table up to [`super::TABLE_ROWS`] calls, plain
//! columns past that, or JSON.

use serde::Serialize;

use super::listing::{SCHEMA_VERSION, captures_footer};
use crate::calls::{Call, ForwardingEntry, NO_CALL_ID_PREFIX, NoCallIdKey, chain_text};
use crate::sip::CaptureReport;

/// One row of `sipdiag calls`.
#[derive(Debug, Clone, Serialize)]
pub struct CallRow {
    pub call_id: String,
    pub first_frame: u64,
    pub last_frame: u64,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The numbers of the forwarding chain (Diversion, else History-Info), in header
    /// order, as in `analyze`'s `calls[].diversion`; `forwarding` marks the one XCC looks
    /// the user up by.
    pub diversion: Vec<String>,
    /// Every Diversion (else History-Info) entry of the first INVITE, in header order,
    /// the one XCC looks up marked `used`.
    pub forwarding: Vec<ForwardingEntry>,
    pub methods: Vec<crate::calls::Method>,
    pub final_status: Option<u16>,
    pub final_frame: Option<u64>,
    pub messages: usize,
    /// Present when the messages carry no Call-ID header: how they were grouped
    /// (`call_id` then holds a made-up key starting with `(no Call-ID)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_call_id: Option<NoCallIdKey>,
}

impl CallRow {
    pub fn from_call(c: &Call) -> Self {
        let inv = c.initial_invite();
        let from = inv
            .and_then(|i| i.from.as_ref())
            .and_then(|f| f.user.clone());
        let to = inv.and_then(|i| i.to.as_ref()).and_then(|f| f.user.clone());
        let fin = c.final_invite_status();
        let forwarding = inv.map(|i| i.forwarding()).unwrap_or_default();
        CallRow {
            call_id: c.call_id.clone(),
            first_frame: c.first_frame,
            last_frame: c.last_frame,
            from,
            to,
            diversion: forwarding.iter().filter_map(|f| f.number.clone()).collect(),
            forwarding,
            methods: c.methods.to_vec(),
            final_status: fin.map(|f| f.0),
            final_frame: fin.map(|f| f.1),
            messages: c.message_count() as usize,
            no_call_id: c.no_call_id().cloned(),
        }
    }
}

/// A line saying that some calls' messages carried no Call-ID header and how they were
/// grouped instead; empty when every call had one. `calls` says per call whether it did.
pub fn no_call_id_note(calls: impl Iterator<Item = bool>) -> String {
    match calls.filter(|&missing| missing).count() {
        0 => String::new(),
        n => format!(
            "{n} call(s) without a Call-ID header (RFC 3261 §8.1.1.4 requires one): listed \
             as \"{NO_CALL_ID_PREFIX} …\", their messages grouped by From tag, CSeq number \
             and the two IP addresses\n"
        ),
    }
}

#[derive(Serialize)]
struct CallsDoc<'a> {
    schema_version: u32,
    captures: &'a [CaptureReport],
    calls: &'a [CallRow],
}

/// [`calls_json`], written to `w` as it is serialised: the document of a large capture
/// is not held in memory a second time.
pub fn write_calls_json(
    mut w: impl std::io::Write,
    captures: &[CaptureReport],
    calls: &[CallRow],
) -> std::io::Result<()> {
    let doc = CallsDoc {
        schema_version: SCHEMA_VERSION,
        captures,
        calls,
    };
    serde_json::to_writer_pretty(&mut w, &doc)?;
    w.write_all(b"\n")?;
    w.flush()
}

pub fn calls_json(captures: &[CaptureReport], calls: &[CallRow]) -> String {
    let doc = CallsDoc {
        schema_version: SCHEMA_VERSION,
        captures,
        calls,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// The columns of `sipdiag calls`.
const CALL_COLUMNS: [&str; 7] = [
    "Call-ID",
    "Frames",
    "From",
    "To",
    "Diversion",
    "Methods",
    "INVITE result",
];

/// A row's cells; Call-IDs shortened in the middle to 24 characters unless `whole_ids`.
fn call_cells(c: &CallRow, whole_ids: bool) -> [String; 7] {
    [
        if whole_ids {
            c.call_id.clone()
        } else {
            super::flow::shorten_middle(&c.call_id, 24)
        },
        format!("{}–{}", c.first_frame, c.last_frame),
        c.from.clone().unwrap_or_default(),
        c.to.clone().unwrap_or_default(),
        chain_text(&c.forwarding),
        c.methods.join(" "),
        match (c.final_status, c.final_frame) {
            (Some(s), Some(f)) => format!("{s} (frame {f})"),
            _ if c.methods.iter().any(|m| m == "INVITE") => "no final response".into(),
            _ => String::new(),
        },
    ]
}

/// The plain columns of a long `calls` listing ([`super::Columns`]), and whether
/// Call-IDs are whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallLines {
    columns: super::Columns,
    whole_ids: bool,
}

impl CallLines {
    /// Columns sized by `rows` (and the heads).
    pub fn sized_by<'a>(rows: impl IntoIterator<Item = &'a CallRow>, whole_ids: bool) -> Self {
        let cells = rows.into_iter().map(|r| call_cells(r, whole_ids));
        CallLines {
            columns: super::Columns::sized_by(&CALL_COLUMNS, cells),
            whole_ids,
        }
    }

    /// The column heads.
    pub fn head(&self) -> String {
        self.columns.line(&CALL_COLUMNS)
    }

    /// One call.
    pub fn row(&self, c: &CallRow) -> String {
        self.columns.line(&call_cells(c, self.whole_ids))
    }
}

/// The calls in plain columns sized by the first [`super::TABLE_ROWS`], with the notes
/// and capture footer of [`calls_table`]: what `calls` prints for more calls than that.
pub fn write_call_lines(
    mut w: impl std::io::Write,
    captures: &[CaptureReport],
    calls: &[CallRow],
    whole_ids: bool,
) -> std::io::Result<()> {
    let lines = CallLines::sized_by(calls.iter().take(super::TABLE_ROWS), whole_ids);
    writeln!(w, "{}", lines.head())?;
    for c in calls {
        writeln!(w, "{}", lines.row(c))?;
    }
    let without = calls.iter().filter(|c| c.no_call_id.is_some()).count();
    w.write_all(calls_tail(captures, without).as_bytes())?;
    w.flush()
}

/// What follows the calls: the note on calls without a Call-ID (`no_call_id` of them),
/// then the captures.
pub fn calls_tail(captures: &[CaptureReport], no_call_id: usize) -> String {
    no_call_id_note(std::iter::repeat_n(true, no_call_id)) + &captures_footer(captures)
}

/// The calls as a table fitted to `width` columns; Call-IDs shortened in the middle to 24
/// characters unless `whole_ids`.
pub fn calls_table(
    captures: &[CaptureReport],
    calls: &[CallRow],
    width: usize,
    whole_ids: bool,
) -> String {
    let mut t = super::new_table(&CALL_COLUMNS);
    super::fit(&mut t, width);
    for c in calls {
        t.add_row(call_cells(c, whole_ids).to_vec());
    }
    let mut out = if calls.is_empty() {
        String::new()
    } else {
        format!("{t}\n")
    };
    let without = calls.iter().filter(|c| c.no_call_id.is_some()).count();
    out.push_str(&calls_tail(captures, without));
    out
}
