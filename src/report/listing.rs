//! `messages`: the listing of every SIP message, and the capture footer the listings
//! share (`calls` is in [`super::call_listing`]).

use serde::Serialize;

use crate::sip::CaptureReport;
use crate::sip::SipMessage;

/// Version of the JSON documents sipdiag writes; bumped on incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// One row of `sipdiag messages`.
#[derive(Debug, Clone, Serialize)]
pub struct MessageRow {
    pub frame: u64,
    pub frames: Vec<u64>,
    pub time: crate::capture::Timestamp,
    pub src: std::net::SocketAddr,
    pub dst: std::net::SocketAddr,
    pub transport: crate::net::Transport,
    pub method: Option<String>,
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub call_id: Option<String>,
    pub cseq: Option<String>,
    /// What could not be parsed in this message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// The capture file the message is in, as the capture reports name it: only when
    /// several files are listed (frame numbers count within each file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<String>,
}

impl MessageRow {
    /// Takes what the listing shows out of a message.
    pub fn from_message(m: SipMessage) -> Self {
        let call_id = m.call_id().map(str::to_string);
        let cseq = m.header("cseq").map(str::to_string);
        let frames = m.frames().to_vec();
        let method = m.method().map(str::to_string);
        let status = m.status();
        let reason = m.reason_phrase().map(str::to_string);
        MessageRow {
            frame: m.frame,
            frames,
            time: m.time,
            src: m.src,
            dst: m.dst,
            transport: m.transport,
            method,
            status,
            reason,
            call_id,
            cseq,
            problems: m.problems,
            capture: None,
        }
    }
}

/// `ip:port` as `SocketAddr` displays it; IPv4 without the formatting machinery (two
/// per row of a listing that may have millions).
fn format_v4(v4: &std::net::SocketAddrV4, buf: &mut [u8; 21]) -> usize {
    let mut n = 0;
    for (i, part) in v4.ip().octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        let (digits, len) = OCTETS[usize::from(part)];
        buf[n..n + 3].copy_from_slice(&digits);
        n += usize::from(len);
    }
    buf[n] = b':';
    n += 1;
    let mut num = itoa::Buffer::new();
    let digits = num.format(v4.port()).as_bytes();
    buf[n..n + digits.len()].copy_from_slice(digits);
    n + digits.len()
}

/// Every octet's decimal digits (padded to three) and their number.
const OCTETS: [([u8; 3], u8); 256] = {
    let mut t = [([0u8; 3], 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let v = i as u8;
        t[i] = if v >= 100 {
            ([b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10], 3)
        } else if v >= 10 {
            ([b'0' + v / 10, b'0' + v % 10, 0], 2)
        } else {
            ([b'0' + v, 0, 0], 1)
        };
        i += 1;
    }
    t
};

/// What consecutive rows repeat, formatted once: the date and time down to the second,
/// and recent IPv4 endpoints (a small direct-mapped table).
#[derive(Default)]
struct RowCache {
    second: Option<(i64, [u8; 27])>,
    addrs: [Option<(std::net::SocketAddrV4, [u8; 21], u8)>; 8],
}

impl RowCache {
    fn time(&mut self, out: &mut Vec<u8>, t: crate::capture::Timestamp) {
        let text = match self.second {
            Some((secs, mut text)) if secs == t.secs => {
                let mut micros = t.nanos / 1000;
                for d in text[20..26].iter_mut().rev() {
                    *d = b'0' + (micros % 10) as u8;
                    micros /= 10;
                }
                text
            }
            _ => match t.rfc3339() {
                Some(text) => {
                    self.second = Some((t.secs, text));
                    text
                }
                None => {
                    out.extend_from_slice(t.to_string().as_bytes());
                    return;
                }
            },
        };
        out.extend_from_slice(&text);
    }

    fn addr(&mut self, out: &mut Vec<u8>, a: &std::net::SocketAddr) {
        let std::net::SocketAddr::V4(v4) = a else {
            out.extend_from_slice(a.to_string().as_bytes());
            return;
        };
        let slot = (usize::from(v4.port()) ^ usize::from(v4.ip().octets()[3])) % 8;
        if let Some((cached, text, len)) = &self.addrs[slot]
            && cached == v4
        {
            out.extend_from_slice(&text[..usize::from(*len)]);
            return;
        }
        let mut text = [0u8; 21];
        let len = format_v4(v4, &mut text);
        out.extend_from_slice(&text[..len]);
        self.addrs[slot] = Some((*v4, text, len as u8));
    }
}

/// A JSON string, as serde_json writes it; without its escaping loop when nothing needs
/// escaping (the rule for Call-IDs, methods, reasons and CSeqs).
fn json_str(out: &mut Vec<u8>, s: &str) {
    // A fold without early exit: the compiler checks many bytes per instruction.
    let plain = s
        .bytes()
        .fold(true, |ok, b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    if plain {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

fn write_message(out: &mut Vec<u8>, m: &SipMessage, capture: Option<&str>, cache: &mut RowCache) {
    let mut num = itoa::Buffer::new();
    let str_or_null = |out: &mut Vec<u8>, v: Option<&str>| match v {
        Some(s) => json_str(out, s),
        None => out.extend_from_slice(b"null"),
    };
    out.extend_from_slice(b"{\"frame\":");
    out.extend_from_slice(num.format(m.frame).as_bytes());
    out.extend_from_slice(b",\"frames\":[");
    for (i, f) in m.frames().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(num.format(*f).as_bytes());
    }
    out.extend_from_slice(b"],\"time\":\"");
    cache.time(out, m.time);
    out.extend_from_slice(b"\",\"src\":\"");
    cache.addr(out, &m.src);
    out.extend_from_slice(b"\",\"dst\":\"");
    cache.addr(out, &m.dst);
    out.extend_from_slice(b"\",\"transport\":\"");
    out.extend_from_slice(m.transport.as_str().as_bytes());
    out.extend_from_slice(b"\",\"method\":");
    str_or_null(out, m.method());
    out.extend_from_slice(b",\"status\":");
    match m.status() {
        Some(s) => out.extend_from_slice(num.format(s).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"reason\":");
    str_or_null(out, m.reason_phrase());
    out.extend_from_slice(b",\"call_id\":");
    str_or_null(out, m.call_id());
    out.extend_from_slice(b",\"cseq\":");
    str_or_null(out, m.header("cseq"));
    if !m.problems.is_empty() {
        out.extend_from_slice(b",\"problems\":");
        let _ = serde_json::to_writer(&mut *out, &m.problems);
    }
    if let Some(c) = capture {
        out.extend_from_slice(b",\"capture\":");
        json_str(out, c);
    }
    out.push(b'}');
}

/// Writes the `messages` JSON document while the capture streams by: one message per
/// line, then the capture summaries (which are known only at the end), so memory does
/// not grow with the number of messages.
pub struct MessagesJson<W: std::io::Write> {
    out: W,
    started: bool,
    first: bool,
    /// The row being written (reused).
    row: Vec<u8>,
    cache: RowCache,
    /// The file the next messages are in, named in each row (several files listed).
    capture: Option<String>,
    /// The first write error; later rows are dropped.
    pub error: Option<std::io::Error>,
}

impl<W: std::io::Write> MessagesJson<W> {
    /// The messages that follow are in the capture file named `path` (as the capture
    /// reports name it): each row names it. Only when several files are listed.
    pub fn capture(&mut self, path: String) {
        self.capture = Some(path);
    }

    pub fn new(out: W) -> Self {
        MessagesJson {
            out,
            started: false,
            first: true,
            row: Vec::with_capacity(512),
            cache: RowCache::default(),
            capture: None,
            error: None,
        }
    }

    fn start(&mut self) -> std::io::Result<()> {
        if !self.started {
            self.started = true;
            write!(
                self.out,
                "{{\"schema_version\":{SCHEMA_VERSION},\"messages\":["
            )?;
        }
        Ok(())
    }

    /// Writes one message as a [`MessageRow`] object. Written by hand rather than through
    /// serde because this runs for every message of a capture; a test checks that both
    /// give the same JSON.
    pub fn message(&mut self, m: &SipMessage) {
        if self.error.is_some() {
            return;
        }
        self.row.clear();
        self.row
            .extend_from_slice(if self.first { b"\n" } else { b",\n" });
        self.first = false;
        write_message(&mut self.row, m, self.capture.as_deref(), &mut self.cache);
        let r = self.start().and_then(|()| self.out.write_all(&self.row));
        if let Err(e) = r {
            self.error = Some(e);
        }
    }

    /// Closes the document with the capture summaries.
    pub fn finish(mut self, captures: &[CaptureReport]) -> std::io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.start()?;
        self.out.write_all(b"\n],\n\"captures\":")?;
        serde_json::to_writer(&mut self.out, captures)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }
}

const MESSAGE_HEADER: [&str; 8] = [
    "Frame",
    "Time",
    "Source",
    "Destination",
    "Proto",
    "Message",
    "Call-ID",
    "CSeq",
];

/// How the `Time` column of the messages listing reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// RFC 3339 in UTC, e.g. `2026-11-23T06:40:01.123456Z`.
    #[default]
    Absolute,
    /// Seconds since the first message listed.
    Relative,
    /// Seconds since the previous message listed.
    Delta,
}

fn message_cells(m: &MessageRow, time: String) -> [String; 8] {
    let what = match (&m.method, m.status) {
        (Some(me), _) => me.clone(),
        (None, Some(s)) => format!("{s} {}", m.reason.as_deref().unwrap_or("")),
        _ => String::new(),
    };
    [
        m.frame.to_string(),
        time,
        m.src.to_string(),
        m.dst.to_string(),
        m.transport.to_string(),
        what.trim_end().to_string(),
        m.call_id.clone().unwrap_or_default(),
        m.cseq.clone().unwrap_or_default(),
    ]
}

/// Rows that size the columns; later rows are streamed in the same columns (a wider value
/// pushes only its own line), so memory stays flat on captures of any size.
pub const SIZING_ROWS: usize = 5_000;

/// The `messages` listing: one layout whatever the capture's size — plain columns
/// ([`super::Columns`]) sized by the first [`SIZING_ROWS`] messages, then written as the
/// capture streams by.
pub struct MessagesTable<W: std::io::Write> {
    out: W,
    /// Held to size the columns: each message, its time text, and the line about its
    /// file written before it (the first of each file, several files listed).
    rows: Vec<(MessageRow, String, Option<String>)>,
    /// The line about the file of the next message, until it is written.
    heading: Option<String>,
    columns: Option<super::Columns>,
    time: TimeFormat,
    first: Option<crate::capture::Timestamp>,
    previous: Option<crate::capture::Timestamp>,
    pub error: Option<std::io::Error>,
}

impl<W: std::io::Write> MessagesTable<W> {
    pub fn new(out: W, time: TimeFormat) -> Self {
        MessagesTable {
            out,
            rows: Vec::new(),
            heading: None,
            columns: None,
            time,
            first: None,
            previous: None,
            error: None,
        }
    }

    fn time_text(&mut self, t: crate::capture::Timestamp) -> String {
        let first = *self.first.get_or_insert(t);
        let previous = self.previous.replace(t).unwrap_or(t);
        match self.time {
            TimeFormat::Absolute => t.to_string(),
            TimeFormat::Relative => format!("{:.6}", t.seconds_since(first)),
            TimeFormat::Delta => format!("{:.6}", t.seconds_since(previous)),
        }
    }

    /// The messages that follow are in the capture file named `path` (several files
    /// listed, their frames numbered each in its own): a line says so before the first.
    pub fn capture(&mut self, path: &str) {
        self.heading = Some(format!("{path}:"));
    }

    pub fn message(&mut self, m: SipMessage) {
        if self.error.is_some() {
            return;
        }
        let row = MessageRow::from_message(m);
        let time = self.time_text(row.time);
        let heading = self.heading.take();
        if self.columns.is_none() {
            self.rows.push((row, time, heading));
            if self.rows.len() >= SIZING_ROWS {
                self.size_and_flush();
            }
            return;
        }
        let r = (heading.map_or(Ok(()), |h| self.heading_line(&h)))
            .and_then(|()| self.line(&message_cells(&row, time)));
        if let Err(e) = r {
            self.error = Some(e);
        }
    }

    fn heading_line(&mut self, heading: &str) -> std::io::Result<()> {
        writeln!(self.out, "{heading}")
    }

    /// Sizes the columns by the rows held and writes the header and those rows.
    fn size_and_flush(&mut self) {
        let rows = std::mem::take(&mut self.rows);
        let (cells, headings): (Vec<[String; 8]>, Vec<Option<String>>) = rows
            .into_iter()
            .map(|(r, t, h)| (message_cells(&r, t), h))
            .unzip();
        self.columns = Some(super::Columns::sized_by(&MESSAGE_HEADER, &cells));
        let r = self.line(&MESSAGE_HEADER).and_then(|()| {
            (cells.iter().zip(&headings)).try_for_each(|(c, h)| {
                (h.as_deref().map_or(Ok(()), |h| self.heading_line(h))).and_then(|()| self.line(c))
            })
        });
        if let Err(e) = r {
            self.error = Some(e);
        }
    }

    fn line<S: AsRef<str>>(&mut self, cells: &[S]) -> std::io::Result<()> {
        let mut line = self
            .columns
            .as_ref()
            .map_or_else(String::new, |c| c.line(cells));
        line.push('\n');
        self.out.write_all(line.as_bytes())
    }

    /// Writes what is held (short listings) and the capture summaries.
    pub fn finish(mut self, captures: &[CaptureReport]) -> std::io::Result<()> {
        if self.columns.is_none() && !self.rows.is_empty() {
            self.size_and_flush();
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.write_all(captures_footer(captures).as_bytes())?;
        self.out.flush()
    }
}

/// One line per capture, then its anomalies.
pub fn captures_footer(captures: &[CaptureReport]) -> String {
    let mut out = String::new();
    for c in captures {
        out.push_str(&format!(
            "{}: {} ({}), {} frames, {} SIP messages\n",
            c.path,
            c.format,
            if c.anomalies.is_empty() {
                "clean"
            } else {
                "with anomalies"
            },
            c.frames,
            c.sip_messages
        ));
        for a in &c.anomalies {
            out.push_str(&format!("  ! {}: {}\n", a.kind, a.message));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written JSON of a message equals serde's rendering of its [`MessageRow`].
    #[test]
    fn hand_written_json_matches_the_row_type() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/reader/snaplen-cut.pcap"
        );
        let mut msgs = Vec::new();
        struct S<'a>(&'a mut Vec<SipMessage>);
        impl crate::app::Sink for S<'_> {
            fn message(&mut self, m: SipMessage) {
                self.0.push(m);
            }
        }
        crate::app::scan(path, &mut S(&mut msgs)).unwrap();
        let ws = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/reader/ws.pcap");
        crate::app::scan(ws, &mut S(&mut msgs)).unwrap();
        let v6 = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/reader/ipfrag-v6.pcap"
        );
        crate::app::scan(v6, &mut S(&mut msgs)).unwrap();
        assert!(msgs.iter().any(|m| m.src.is_ipv6()));
        assert!(msgs.len() > 10);
        assert!(msgs.iter().any(|m| !m.problems.is_empty()));
        let mut cache = RowCache::default();
        for m in msgs {
            let mut buf = Vec::new();
            write_message(&mut buf, &m, None, &mut cache);
            let hand: serde_json::Value = serde_json::from_slice(&buf).unwrap();
            let mut row = MessageRow::from_message(m.clone());
            assert_eq!(hand, serde_json::to_value(&row).unwrap());
            // A row of one of several files names it.
            let path = "c:\\tickets\\\"pbx\" side.pcap";
            buf.clear();
            write_message(&mut buf, &m, Some(path), &mut cache);
            let hand: serde_json::Value = serde_json::from_slice(&buf).unwrap();
            row.capture = Some(path.to_string());
            assert_eq!(hand, serde_json::to_value(&row).unwrap());
            assert_eq!(hand["capture"], path);
        }
    }

    #[test]
    fn times_and_strings_are_written_as_serde_does() {
        let mut cache = RowCache::default();
        for (secs, nanos) in [
            (0, 0),
            (1_700_000_000, 5_000),
            (1_700_000_000, 999_999_999),
            (1_700_000_001, 1_000),
            (-1, 0),
            (400_000_000_000, 0),
        ] {
            let t = crate::capture::Timestamp::new(secs, nanos);
            let mut buf = Vec::new();
            cache.time(&mut buf, t);
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                t.to_string(),
                "{secs} {nanos}"
            );
        }
        for s in [
            "",
            "abc@10.0.0.1",
            "a\"b",
            "back\\slash",
            "tab\there",
            "\u{1}",
            "ümlaut €",
            "\u{7f}",
        ] {
            let mut buf = Vec::new();
            json_str(&mut buf, s);
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn addresses_are_written_as_displayed() {
        for a in [
            "0.0.0.0:0",
            "1.2.3.4:5",
            "10.20.30.40:5060",
            "255.255.255.255:65535",
            "[2001:db8::1]:5061",
            "[::ffff:1.2.3.4]:80",
        ] {
            let a: std::net::SocketAddr = a.parse().unwrap();
            let mut cache = RowCache::default();
            for _ in 0..2 {
                // Formatted, then from the cache.
                let mut buf = Vec::new();
                cache.addr(&mut buf, &a);
                assert_eq!(String::from_utf8(buf).unwrap(), a.to_string());
            }
        }
    }
}
