//! The lenient SIP message model and its parser.
//!
//! A message is recognised by its start line (RFC 3261 §7.1/§7.2); after that nothing
//! is fatal: header names are case-insensitive and may be compact (§7.3.3), lines may end
//! in LF only, continuation lines are folded in (§7.3.1), bytes that are not UTF-8 are
//! kept lossily, and a header that cannot be understood is recorded in `problems`.
//!
//! rsip was evaluated for this layer and rejected: it refuses compact header forms,
//! LF-only line ends and any non-UTF-8 byte, and a message it refuses would vanish from
//! the report. Everything here is total: no panic and no allocation beyond the input size.

use std::net::SocketAddr;

use crate::capture::Timestamp;
use crate::net::Transport;

use super::headers::{self, CSeq, Diversion, HistoryInfo, NameAddr, Via};
use super::sdp::{self, Sdp};

mod lines;

pub use lines::Start;
pub(crate) use lines::{Detect, content_length, detect, header_end};
use lines::{StartSpan, start_span, walk_headers};

/// One header line, as positions in [`SipMessage::text`]: small and `Copy`, because the
/// parser writes one per line of every message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    /// The canonical (full, lower-case) name when it is one sipdiag knows; otherwise the
    /// name is only in the text, at `name`.
    key: Option<&'static str>,
    name: (u32, u32),
    /// Where the value lies in the text, or `(FOLDED, i)` for `folded[i]`.
    value: (u32, u32),
}

/// Marks a header value that was folded over several lines (RFC 3261 §7.3.1) and is kept
/// joined in [`SipMessage::folded`].
const FOLDED: u32 = u32::MAX;

/// A SIP message with where it came from.
#[derive(Debug, Clone)]
pub struct SipMessage {
    /// The SDP summary, parsed on first use.
    sdp: std::cell::OnceCell<Option<Sdp>>,
    /// The frame that completed the message (Wireshark's frame number).
    pub frame: u64,
    /// Every frame that carried part of it, when more than `frame` (see [`Self::frames`]).
    frames: Vec<u64>,
    pub time: Timestamp,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport,
    /// The start line's parts, as positions in `text` (see [`Self::method`],
    /// [`Self::status`], [`Self::reason_phrase`], [`Self::request_uri`]).
    start: StartSpan,
    /// The start line and header block as text (bytes that are not UTF-8 replaced).
    text: String,
    headers: Vec<Header>,
    /// Values of folded headers, joined with single spaces.
    folded: Vec<String>,
    pub body: Vec<u8>,
    /// What could not be understood (bad header, short body, …).
    pub problems: Vec<String>,
}

/// Where a message came from: filled in by the framing stage.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub frame: u64,
    pub frames: Vec<u64>,
    pub time: Timestamp,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport,
}

/// One whole SIP message as framed, not yet parsed: its bytes, where they came from and
/// how they travelled. Framing hands these on; [`RawMessage::parse`] makes the
/// [`SipMessage`] (possibly on another thread, see `app`).
#[derive(Debug)]
pub struct RawMessage<'a> {
    pub data: &'a [u8],
    pub prov: Provenance,
    /// The transport keeps message boundaries (UDP, SCTP, WebSocket): the body is the rest
    /// of the datagram when Content-Length is missing.
    pub datagram: bool,
    /// The capture cut the frame short (snaplen).
    pub cut: bool,
    /// The start line as recognised by framing.
    pub start: Start,
}

impl RawMessage<'_> {
    /// Parses the message. Framing emits only data that starts with a SIP start line, so
    /// this is `None` only for bytes that did not come from framing.
    pub fn parse(self) -> Option<SipMessage> {
        let mut m = parse_with(self.data, self.prov, self.datagram, Some(self.start.0))?;
        if self.cut {
            m.problems
                .push("frame cut short by the capture's snaplen".to_string());
        }
        Some(m)
    }
}

/// Parses one whole message (start line, headers, body). `None` if the start line is not SIP.
/// `datagram` says the transport preserves message boundaries (no Content-Length needed).
#[cfg(test)]
pub(crate) fn parse_message(data: &[u8], p: Provenance, datagram: bool) -> Option<SipMessage> {
    parse_with(data, p, datagram, None)
}

/// The SIP message `text`, sent over UDP from `src` to `dst` in frame `frame`, `frame`
/// seconds after 2023-11-14 22:13:20 UTC: for tests.
#[cfg(test)]
pub(crate) fn udp_message(text: &str, src: &str, dst: &str, frame: u64) -> SipMessage {
    let p = Provenance {
        frame,
        frames: Vec::new(),
        time: crate::capture::Timestamp::new(1_700_000_000 + frame as i64, 0),
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        transport: crate::net::Transport::Udp,
    };
    parse_message(text.as_bytes(), p, true).unwrap()
}

/// `parse_message`, with the start line's parts when they are known already.
fn parse_with(
    data: &[u8],
    p: Provenance,
    datagram: bool,
    known: Option<StartSpan>,
) -> Option<SipMessage> {
    let start = match known {
        Some(span) => span,
        None => {
            let eol = memchr::memchr2(b'\n', b'\r', data).unwrap_or(data.len());
            start_span(&data[..eol])?
        }
    };

    // One pass over the bytes finds the header lines and the blank line that ends them.
    let walk = walk_headers(data);
    let terminated = walk.end.is_some();
    let (head_len, body_start) = walk.end.unwrap_or((data.len(), data.len()));
    let head = data.get(..head_len).unwrap_or_default();
    // Valid UTF-8 is the rule: validate (fast) and copy once; repair only when needed.
    let (text, start, lines) = match std::str::from_utf8(head) {
        Ok(t) => (t.to_owned(), start, walk),
        Err(_) => {
            // Replacement characters move the positions: find the parts again in the
            // repaired text (they are found there whenever they were in the bytes, since
            // only bytes >= 0x80 are replaced).
            let t = String::from_utf8_lossy(head).into_owned();
            let eol = memchr::memchr2(b'\n', b'\r', t.as_bytes()).unwrap_or(t.len());
            let start = start_span(&t.as_bytes()[..eol])?;
            let lines = walk_headers(t.as_bytes());
            (t, start, lines)
        }
    };
    let mut problems = Vec::new();
    if !terminated {
        problems.push("header block not terminated by a blank line".to_string());
    }
    for &(a, b, empty_name) in &lines.bad {
        problems.push(if empty_name {
            "header line with an empty name".to_string()
        } else {
            format!(
                "header line without a colon: {:?}",
                text[a..b].chars().take(60).collect::<String>()
            )
        });
    }
    let mut headers = lines.headers;
    // RFC 3261 §7.3.1 line folding: continuation lines join their header's value.
    let mut folded: Vec<String> = Vec::new();
    for &(h, a, b) in &lines.folds {
        let header = &mut headers[h];
        let joined = match header.value {
            (FOLDED, i) => &mut folded[i as usize],
            (va, vb) => {
                header.value = (FOLDED, folded.len() as u32);
                folded.push(text[va as usize..vb as usize].to_string());
                folded.last_mut().expect("just pushed")
            }
        };
        joined.push(' ');
        joined.push_str(text[a..b].trim());
    }
    let rest = data.get(body_start..).unwrap_or_default();
    let declared = headers
        .iter()
        .find(|h| h.key == Some("content-length"))
        .map(|h| value_of(h, &text, &folded));
    let (body, problem) = body_of(declared, rest, datagram);
    problems.extend(problem);
    let body = body.to_vec();
    let msg = SipMessage {
        sdp: std::cell::OnceCell::new(),
        frame: p.frame,
        // Most messages fit one frame: no list for them.
        frames: if p.frames.is_empty() || p.frames.as_slice() == [p.frame] {
            Vec::new()
        } else {
            p.frames
        },
        time: p.time,
        src: p.src,
        dst: p.dst,
        transport: p.transport,
        start,
        text,
        headers,
        folded,
        body,
        problems,
    };
    Some(msg)
}

/// The body: what the Content-Length value `declared` says of the bytes `rest` after the
/// header block, with the problem when it says something impossible. Without the header,
/// the rest of a datagram, else nothing.
fn body_of<'a>(
    declared: Option<&str>,
    rest: &'a [u8],
    datagram: bool,
) -> (&'a [u8], Option<String>) {
    match declared.map(|v| v.trim().parse::<usize>()) {
        Some(Ok(n)) if n <= rest.len() => (&rest[..n], None),
        Some(Ok(n)) => (
            rest,
            Some(format!(
                "Content-Length {n} but only {} body bytes present",
                rest.len()
            )),
        ),
        Some(Err(_)) => (rest, Some("Content-Length is not a number".to_string())),
        None if datagram => (rest, None),
        None => (&[], None),
    }
}

/// The value of `h`: a slice of the text, or its folded copy.
fn value_of<'a>(h: &Header, text: &'a str, folded: &'a [String]) -> &'a str {
    match h.value {
        (FOLDED, i) => folded.get(i as usize).map_or("", String::as_str),
        (a, b) => text.get(a as usize..b as usize).unwrap_or(""),
    }
}

impl SipMessage {
    /// Every frame that carried part of the message, in order; the last is [`Self::frame`].
    pub fn frames(&self) -> &[u64] {
        if self.frames.is_empty() {
            std::slice::from_ref(&self.frame)
        } else {
            &self.frames
        }
    }

    /// Numbers the message's frames `offset` further on: a file read after others, its
    /// frames counted through the set as one (as `mergecap -a` joins a rotated set).
    pub fn renumber(&mut self, offset: u64) {
        self.frame += offset;
        for f in &mut self.frames {
            *f += offset;
        }
    }

    /// Bytes held for the header text and the body.
    pub(crate) fn held_bytes(&self) -> usize {
        self.text.len() + self.body.len()
    }

    fn value(&self, h: &Header) -> &str {
        value_of(h, &self.text, &self.folded)
    }

    /// Whether `h` is the header named `key` (a canonical, lower-case name).
    fn is(&self, h: &Header, key: &str) -> bool {
        match h.key {
            Some(k) => k == key,
            None => self
                .text
                .get(h.name.0 as usize..h.name.1 as usize)
                .is_some_and(|n| n.eq_ignore_ascii_case(key)),
        }
    }

    /// First value of a header by canonical name (`"call-id"`, `"from"`, …).
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| self.is(h, key))
            .map(|h| self.value(h))
    }

    /// Every header as (name, value), in order: the canonical name for the headers sipdiag
    /// knows (compact forms expanded), the name as written for others.
    pub fn header_lines(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|h| {
            let name = h.key.unwrap_or_else(|| {
                self.text
                    .get(h.name.0 as usize..h.name.1 as usize)
                    .unwrap_or("")
            });
            (name, self.value(h))
        })
    }

    /// All values of a header, comma-separated lists split into entries, in order.
    pub fn header_values(&self, key: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|h| self.is(h, key))
            .flat_map(|h| headers::split_list(self.value(h)))
            .collect()
    }

    fn span(&self, (a, b): (usize, usize)) -> &str {
        self.text.get(a..b).unwrap_or("")
    }

    pub fn method(&self) -> Option<&str> {
        match self.start {
            StartSpan::Request { method, .. } => Some(self.span(method)),
            StartSpan::Response { .. } => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartSpan::Response { code, .. } => Some(code),
            StartSpan::Request { .. } => None,
        }
    }

    /// The reason phrase of a response (`"Busy Here"`).
    pub fn reason_phrase(&self) -> Option<&str> {
        match self.start {
            StartSpan::Response { reason, .. } => Some(self.span(reason)),
            StartSpan::Request { .. } => None,
        }
    }

    pub fn is_request(&self) -> bool {
        matches!(self.start, StartSpan::Request { .. })
    }

    pub fn request_uri(&self) -> Option<&str> {
        match self.start {
            StartSpan::Request { uri, .. } => Some(self.span(uri)),
            StartSpan::Response { .. } => None,
        }
    }

    /// Method name for a request, or the status code for a response.
    pub fn kind(&self) -> String {
        match (self.method(), self.status()) {
            (Some(method), _) => method.to_string(),
            (None, code) => code.unwrap_or_default().to_string(),
        }
    }

    /// Request method, or the reason phrase with the code for a response.
    pub fn summary(&self) -> String {
        match self.start {
            StartSpan::Request { method, .. } => self.span(method).to_string(),
            StartSpan::Response { code, reason } => format!("{code} {}", self.span(reason)),
        }
    }

    pub fn call_id(&self) -> Option<&str> {
        self.header("call-id")
    }

    pub fn cseq(&self) -> Option<CSeq<'_>> {
        self.header("cseq").and_then(headers::parse_cseq)
    }

    pub fn from(&self) -> Option<NameAddr> {
        self.header("from").map(headers::parse_name_addr)
    }

    pub fn to(&self) -> Option<NameAddr> {
        self.header("to").map(headers::parse_name_addr)
    }

    pub fn contact(&self) -> Option<NameAddr> {
        self.header("contact").map(headers::parse_name_addr)
    }

    pub fn vias(&self) -> Vec<Via> {
        self.header_values("via")
            .into_iter()
            .map(headers::parse_via)
            .collect()
    }

    /// Branch of the topmost Via (the transaction id, RFC 3261 §17.2.3). Looked up
    /// without parsing the whole Via: this runs for every message of a call.
    pub fn branch(&self) -> Option<&str> {
        let first = self.header("via")?;
        // The rule: one Via entry, no quotes, `;branch=` spelt so. Found with one search.
        static BRANCH: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b";branch="));
        let bytes = first.as_bytes();
        if memchr::memchr2(b',', b'"', bytes).is_none()
            && let Some(at) = BRANCH.find(bytes)
        {
            let value = &first[at + 8..];
            let end = memchr::memchr(b';', value.as_bytes()).unwrap_or(value.len());
            return Some(value[..end].trim_ascii());
        }
        let top = headers::list_entries(first).next()?;
        // Parameters split on bytes at `;` outside quotes (`;`, `=` and `"` are ASCII,
        // so the cuts are character boundaries).
        let mut quoted = false;
        let params = top.as_bytes().split(|&b| {
            if b == b'"' {
                quoted = !quoted;
            }
            b == b';' && !quoted
        });
        let mut at = 0;
        for p in params {
            let start = at;
            at += p.len() + 1;
            if start == 0 {
                continue; // sent-protocol and sent-by
            }
            let Some(eq) = p.iter().position(|&b| b == b'=') else {
                continue;
            };
            if p[..eq].trim_ascii().eq_ignore_ascii_case(b"branch") {
                let value = &top[start + eq + 1..start + p.len()];
                return Some(value.trim_ascii().trim_matches('"'));
            }
        }
        None
    }

    /// Diversion entries (RFC 5806), most recent first, as received.
    pub fn diversion(&self) -> Vec<Diversion> {
        self.header_values("diversion")
            .into_iter()
            .map(headers::parse_diversion)
            .collect()
    }

    /// History-Info entries (RFC 7044), in the order received.
    pub fn history_info(&self) -> Vec<HistoryInfo> {
        self.header_values("history-info")
            .into_iter()
            .map(headers::parse_history_info)
            .collect()
    }

    pub fn p_asserted_identity(&self) -> Vec<NameAddr> {
        self.header_values("p-asserted-identity")
            .into_iter()
            .map(headers::parse_name_addr)
            .collect()
    }

    pub fn reason(&self) -> Option<&str> {
        self.header("reason")
    }

    pub fn warning(&self) -> Option<&str> {
        self.header("warning")
    }

    /// User-Agent or, for responses, Server.
    pub fn agent(&self) -> Option<&str> {
        self.header("user-agent").or_else(|| self.header("server"))
    }

    /// The SDP summary, when the body is (or contains) SDP (parsed once).
    pub fn sdp(&self) -> Option<&Sdp> {
        self.sdp.get_or_init(|| self.parse_sdp()).as_ref()
    }

    /// Drops the SDP summary (parsed or not) without parsing it: for a reader of the
    /// message that has no use for it.
    pub fn skip_sdp(&mut self) {
        self.sdp = std::cell::OnceCell::from(None);
    }

    /// The SDP summary, moved out of the message (parsed now if it was not yet).
    pub fn take_sdp(&mut self) -> Option<Sdp> {
        match self.sdp.take() {
            Some(parsed) => parsed,
            None => self.parse_sdp(),
        }
    }

    fn parse_sdp(&self) -> Option<Sdp> {
        sdp_in(
            self.header("content-type").unwrap_or("").as_bytes(),
            &self.body,
        )
    }
}

/// The SDP summary of a body with this Content-Type, when the body is (or, in a multipart
/// body, contains) SDP.
fn sdp_in(content_type: &[u8], body: &[u8]) -> Option<Sdp> {
    if body.is_empty() {
        return None;
    }
    let ct = content_type;
    let is_sdp = ct
        .windows(b"application/sdp".len())
        .any(|w| w.eq_ignore_ascii_case(b"application/sdp"))
        || body.starts_with(b"v=0");
    let multipart = ct
        .get(..b"multipart/".len())
        .is_some_and(|p| p.eq_ignore_ascii_case(b"multipart/"));
    if is_sdp && !multipart {
        return Some(sdp::parse(body));
    }
    if multipart {
        let text = String::from_utf8_lossy(body);
        let at = text.find("\nv=0")?;
        return Some(sdp::parse(text[at + 1..].as_bytes()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::lines::canonical;
    use super::*;

    fn prov() -> Provenance {
        Provenance {
            frame: 1,
            frames: vec![1],
            time: Timestamp::default(),
            src: "10.0.0.1:5060".parse().unwrap(),
            dst: "10.0.0.2:5060".parse().unwrap(),
            transport: Transport::Udp,
        }
    }

    #[test]
    fn parses_compact_lf_only_folded_and_non_utf8() {
        let raw = b"INVITE sip:123@h SIP/2.0\nv: SIP/2.0/UDP a;branch=z9hG4bK1\ni: abc\nf: <sip:1@h>;tag=x\nt: sip:2@h\nSubject: one\n two\nX-Bin: \xff\xfe\nl: 4\n\nbody";
        let m = parse_message(raw, prov(), true).unwrap();
        assert_eq!(m.method(), Some("INVITE"));
        assert_eq!(m.call_id(), Some("abc"));
        assert_eq!(m.header("subject"), Some("one two"));
        assert_eq!(m.branch(), Some("z9hG4bK1"));
        assert_eq!(m.from().unwrap().tag.as_deref(), Some("x"));
        assert_eq!(m.body, b"body");
        assert!(m.header("x-bin").unwrap().contains('\u{fffd}'));
        assert!(m.problems.is_empty(), "{:?}", m.problems);
    }

    #[test]
    fn response_and_broken_header() {
        let raw = b"SIP/2.0 503 Service Unavailable\r\nCall-ID: q\r\nthis line is broken\r\nCSeq: 2 INVITE\r\n\r\n";
        let m = parse_message(raw, prov(), true).unwrap();
        assert_eq!(m.status(), Some(503));
        assert_eq!(m.cseq().unwrap().method, "INVITE");
        assert_eq!(m.problems.len(), 1);
    }

    #[test]
    fn rejects_http_and_ssdp() {
        assert!(matches!(detect(b"GET / HTTP/1.1\r\n"), Detect::No));
        assert!(matches!(detect(b"NOTIFY * HTTP/1.1\r\n"), Detect::No));
        assert!(matches!(detect(b"\x80\x00rtp"), Detect::No));
        assert!(matches!(detect(b"hello"), Detect::No));
        assert!(matches!(
            detect(b"OPTIONS sip:x SIP/2.0\r\n"),
            Detect::Sip(_)
        ));
        assert!(matches!(detect(b"SIP/2.0 200 OK\r\n"), Detect::Sip(_)));
        assert!(matches!(detect(b"SIP/2.0 2000 OK\r\n"), Detect::No));
        assert!(matches!(
            detect(b"INVITE sip:x SIP/2.0 extra\r\n"),
            Detect::No
        ));
        assert!(matches!(detect(b"INVITE sip:x\r\n"), Detect::No));
        assert!(matches!(detect(b"INV\x01TE sip:x SIP/2.0\r\n"), Detect::No));
    }

    #[test]
    fn canonical_names_ignore_case_and_expand_compact_forms() {
        for full in [
            "call-id",
            "from",
            "to",
            "via",
            "contact",
            "content-length",
            "content-type",
            "cseq",
            "max-forwards",
            "user-agent",
            "server",
            "diversion",
            "history-info",
            "p-asserted-identity",
            "proxy-authorization",
            "record-route",
            "reason",
            "warning",
            "www-authenticate",
            "content-disposition",
            "session-expires",
        ] {
            assert_eq!(canonical(full.as_bytes()), Some(full));
            assert_eq!(canonical(full.to_ascii_uppercase().as_bytes()), Some(full));
        }
        assert_eq!(canonical(b"I"), Some("call-id"));
        assert_eq!(canonical(b"m"), Some("contact"));
        assert_eq!(canonical(b"X"), Some("session-expires"));
        for unknown in [
            "",
            "q",
            "x-foo",
            "call_id",
            "Contacts",
            "fromm",
            "P-Asserted-Identit",
        ] {
            assert_eq!(canonical(unknown.as_bytes()), None, "{unknown}");
        }
    }

    #[test]
    fn branch_of_the_top_via() {
        let branch = |via: &str| {
            let raw = format!(
                "OPTIONS sip:a SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP c;branch=z9hG4bKlast\r\n\r\n"
            );
            parse_message(raw.as_bytes(), prov(), true)
                .unwrap()
                .branch()
                .map(str::to_string)
        };
        let cases = [
            ("SIP/2.0/UDP a:5060;branch=z9hG4bK1;rport", Some("z9hG4bK1")),
            ("SIP/2.0/UDP a:5060;rport;branch=z9hG4bK2", Some("z9hG4bK2")),
            (
                "SIP/2.0/UDP a:5060 ; Branch = z9hG4bK3 ;rport",
                Some("z9hG4bK3"),
            ),
            ("SIP/2.0/UDP a;BRANCH=z9hG4bK4", Some("z9hG4bK4")),
            (
                "SIP/2.0/UDP a;branch=z9hG4bK5, SIP/2.0/UDP b;branch=z9hG4bKsecond",
                Some("z9hG4bK5"),
            ),
            (
                "SIP/2.0/UDP a;x=\"q;branch=no\";branch=z9hG4bK6",
                Some("z9hG4bK6"),
            ),
            ("SIP/2.0/UDP a;received=1.2.3.4", None),
            ("SIP/2.0/UDP a;branch=", Some("")),
        ];
        for (via, want) in cases {
            assert_eq!(branch(via), want.map(str::to_string), "{via}");
        }
    }

    #[test]
    fn start_line_parts() {
        let m = parse_message(b"INVITE  sip:a@b   SIP/2.0\r\n\r\n", prov(), true).unwrap();
        assert_eq!(
            (m.method(), m.request_uri(), m.status(), m.reason_phrase()),
            (Some("INVITE"), Some("sip:a@b"), None, None)
        );
        let m = parse_message(b"SIP/2.0 486  Busy Here \t\r\n\r\n", prov(), true).unwrap();
        assert_eq!(
            (m.method(), m.status(), m.reason_phrase()),
            (None, Some(486), Some("Busy Here"))
        );
        // Not UTF-8 in the URI: positions found again in the repaired text.
        let m = parse_message(
            b"BYE sip:\xff@b SIP/2.0\r\nX-Foo: \xfe\r\n\r\n",
            prov(),
            true,
        )
        .unwrap();
        assert_eq!(m.method(), Some("BYE"));
        assert_eq!(m.request_uri(), Some("sip:\u{fffd}@b"));
        assert_eq!(m.header("x-foo"), Some("\u{fffd}"));
    }

    #[test]
    fn header_walk_ends_where_header_end_says() {
        let cases: [&[u8]; 17] = [
            b"",
            b"X\n\nA\n\r\n",
            b"X\n\r\nA\n\n",
            b"X\nA\r\n\n\r\n",
            b"X",
            b"X\n",
            b"X\n\n",
            b"X\r\n\r\nbody",
            b"X\nA: 1\nB: 2\n\nbody\n\n",
            b"X\nA: 1\r\n\r\n",
            b"X\nA: 1\r\n \r\n\r\n",
            b"X\nA: 1\r\n\rB: 2\r\n\r\n",
            b"X\r\nY",
            b"X\nA: 1\nno colon\n: empty\n\tfold\n\n",
            b"X\n\r\r\n\n",
            b"\n\n",
            b"X\nA: 1\n",
        ];
        for c in cases {
            assert_eq!(
                walk_headers(c).end,
                header_end(c),
                "{:?}",
                String::from_utf8_lossy(c)
            );
        }
        let w = walk_headers(b"X\nA: 1\nno colon\n: empty\n\tfold\nB:2\n\n");
        assert_eq!(w.headers.len(), 2);
        assert_eq!(w.bad.iter().map(|b| b.2).collect::<Vec<_>>(), [false, true]);
        assert_eq!(w.folds.len(), 1);
        assert_eq!(w.folds[0].0, 0, "the fold continues A");
    }

    #[test]
    fn header_end_is_the_first_blank_line_on_every_short_input() {
        // The definition, line by line: the first `\n` followed by `\n` or `\r\n`.
        let reference = |d: &[u8]| {
            (0..d.len()).filter(|&i| d[i] == b'\n').find_map(|nl| {
                match (d.get(nl + 1), d.get(nl + 2)) {
                    (Some(b'\n'), _) => Some((nl + 1, nl + 2)),
                    (Some(b'\r'), Some(b'\n')) => Some((nl + 1, nl + 3)),
                    _ => None,
                }
            })
        };
        // Every string of up to 8 bytes over `x`, `\r`, `\n`.
        for len in 0..=8u32 {
            for n in 0..3usize.pow(len) {
                let d: Vec<u8> = (0..len).map(|k| b"x\r\n"[n / 3usize.pow(k) % 3]).collect();
                assert_eq!(header_end(&d), reference(&d), "{d:?}");
            }
        }
    }

    #[test]
    fn header_end_and_length() {
        let m = b"SIP/2.0 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(header_end(m), Some((35, 37)));
        assert_eq!(content_length(&m[..35]), Some(Ok(3)));
        assert_eq!(header_end(b"X\n\nY"), Some((2, 3)));
        assert_eq!(header_end(b"X\r\nY"), None);
    }

    #[test]
    fn sdp_is_found_by_content_type_in_any_case_and_inside_multipart() {
        let sdp_port = |ct: &str, body: &str| {
            let raw = format!("SIP/2.0 200 OK\r\n{ct}\r\n\r\n{body}");
            parse_message(raw.as_bytes(), prov(), true)
                .unwrap()
                .sdp()
                .map(|s| s.media[0].port)
        };
        // No leading v=0: only the Content-Type says it is SDP.
        let bare = "c=IN IP4 10.0.0.9\r\nm=audio 4000 RTP/AVP 8\r\n";
        assert_eq!(sdp_port("Content-Type: APPLICATION/SDP", bare), Some(4000));
        assert_eq!(sdp_port("c: application/sdp", bare), Some(4000));
        assert_eq!(sdp_port("Content-Type: text/plain", bare), None);
        let mixed = "--b\r\nContent-Type: application/sdp\r\n\r\n\
                     v=0\r\nc=IN IP4 10.0.0.9\r\nm=audio 4002 RTP/AVP 0\r\n--b--\r\n";
        assert_eq!(
            sdp_port("Content-Type: Multipart/Mixed;boundary=b", mixed),
            Some(4002)
        );
    }
}
