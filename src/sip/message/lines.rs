//! Where a SIP message's parts lie, before it is parsed: whether a payload starts with a
//! request or status line ([`detect`]), where its header block ends and what its
//! Content-Length says ([`header_end`], [`content_length`]), and its header lines as
//! positions, compact names expanded ([`walk_headers`]). Input: bytes; output: positions
//! in them. Total on any input.

use super::Header;

/// Compact forms (RFC 3261 §7.3.3 and later RFCs) and the names sipdiag meets often →
/// full lower-case names; `None` for other names.
pub(super) fn canonical(name: &[u8]) -> Option<&'static str> {
    // Dispatch on length and first letter, then one case-insensitive comparison (rarely
    // two): this runs for every header line of every message.
    let &first = name.first()?;
    let first = first.to_ascii_lowercase();
    if name.len() == 1 {
        return Some(match first {
            b'a' => "accept-contact",
            b'b' => "referred-by",
            b'c' => "content-type",
            b'd' => "request-disposition",
            b'e' => "content-encoding",
            b'f' => "from",
            b'i' => "call-id",
            b'j' => "reject-contact",
            b'k' => "supported",
            b'l' => "content-length",
            b'm' => "contact",
            b'o' => "event",
            b'r' => "refer-to",
            b's' => "subject",
            b't' => "to",
            b'u' => "allow-events",
            b'v' => "via",
            b'x' => "session-expires",
            b'y' => "identity",
            _ => return None,
        });
    }
    // The usual spelling first (a comparison of known size, done in registers), then any
    // case.
    fn l<const N: usize>(name: &[u8], full: &'static str, usual: &[u8; N]) -> Option<&'static str> {
        let same = <&[u8; N]>::try_from(name).is_ok_and(|n| n == usual);
        (same || name.eq_ignore_ascii_case(full.as_bytes())).then_some(full)
    }
    match (name.len(), first) {
        (2, b't') => l(name, "to", b"To"),
        (3, b'v') => l(name, "via", b"Via"),
        (4, b'c') => l(name, "cseq", b"CSeq"),
        (4, b'd') => l(name, "date", b"Date"),
        (4, b'f') => l(name, "from", b"From"),
        (5, b'a') => l(name, "allow", b"Allow"),
        (5, b'e') => l(name, "event", b"Event"),
        (5, b'r') => l(name, "route", b"Route"),
        (6, b'a') => l(name, "accept", b"Accept"),
        (6, b'm') => l(name, "min-se", b"Min-SE"),
        (6, b'r') => l(name, "reason", b"Reason"),
        (6, b's') => l(name, "server", b"Server"),
        (7, b'c') => l(name, "call-id", b"Call-ID").or_else(|| l(name, "contact", b"Contact")),
        (7, b'e') => l(name, "expires", b"Expires"),
        (7, b'p') => l(name, "privacy", b"Privacy"),
        (7, b'r') => l(name, "require", b"Require"),
        (7, b's') => l(name, "subject", b"Subject"),
        (7, b'w') => l(name, "warning", b"Warning"),
        (8, b'i') => l(name, "identity", b"Identity"),
        (8, b'r') => l(name, "refer-to", b"Refer-To"),
        (9, b'd') => l(name, "diversion", b"Diversion"),
        (9, b's') => l(name, "supported", b"Supported"),
        (10, b'u') => l(name, "user-agent", b"User-Agent"),
        (11, b'r') => l(name, "referred-by", b"Referred-By"),
        (12, b'a') => l(name, "allow-events", b"Allow-Events"),
        (12, b'c') => l(name, "content-type", b"Content-Type"),
        (12, b'h') => l(name, "history-info", b"History-Info"),
        (12, b'm') => l(name, "max-forwards", b"Max-Forwards"),
        (12, b'o') => l(name, "organization", b"Organization"),
        (12, b'r') => l(name, "record-route", b"Record-Route"),
        (13, b'a') => l(name, "authorization", b"Authorization"),
        (14, b'a') => l(name, "accept-contact", b"Accept-Contact"),
        (14, b'c') => l(name, "content-length", b"Content-Length"),
        (14, b'r') => l(name, "reject-contact", b"Reject-Contact"),
        (15, b's') => l(name, "session-expires", b"Session-Expires"),
        (16, b'c') => l(name, "content-encoding", b"Content-Encoding"),
        (16, b'w') => l(name, "www-authenticate", b"WWW-Authenticate"),
        (18, b'p') => l(name, "proxy-authenticate", b"Proxy-Authenticate"),
        (19, b'c') => l(name, "content-disposition", b"Content-Disposition"),
        (19, b'p') => l(name, "p-asserted-identity", b"P-Asserted-Identity")
            .or_else(|| l(name, "proxy-authorization", b"Proxy-Authorization")),
        (19, b'r') => l(name, "request-disposition", b"Request-Disposition"),
        (20, b'p') => l(name, "p-preferred-identity", b"P-Preferred-Identity"),
        _ => None,
    }
}

/// Result of looking at the first line of a payload.
pub(crate) enum Detect {
    /// Starts with a SIP request or status line (found where).
    Sip(Start),
    /// Not SIP.
    No,
}

/// Where the parts of a message's start line lie, as found when it was recognised, so
/// that parsing need not look again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start(pub(super) StartSpan);

/// Is `token` a method name: RFC 3261 token characters, at most 32 of them.
pub(super) fn is_token(s: &[u8]) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.iter().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
                )
        })
}

/// Cheap test whether `data` starts with a SIP request or status line.
pub(crate) fn detect(data: &[u8]) -> Detect {
    if !crate::sip::extract::may_be_sip(data) {
        return Detect::No;
    }
    let window = &data[..data.len().min(8192)];
    // Like Wireshark, a lone CR also ends the start line.
    let Some(eol) = memchr::memchr2(b'\n', b'\r', window) else {
        return Detect::No;
    };
    match start_span(&window[..eol]) {
        Some(span) => Detect::Sip(Start(span)),
        None => Detect::No,
    }
}

pub(super) fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

pub(super) fn is_sip_version(v: &[u8]) -> bool {
    v.eq_ignore_ascii_case(b"SIP/2.0")
}

/// Where the parts of a start line lie in it (no copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StartSpan {
    Request {
        method: (usize, usize),
        uri: (usize, usize),
    },
    Response {
        code: u16,
        reason: (usize, usize),
    },
}

/// Finds the parts of a start line; `None` if it is not one.
pub(super) fn start_span(line: &[u8]) -> Option<StartSpan> {
    // Control characters (NUL, …) never occur in a real start line. (A fold without an
    // early exit: the compiler turns it into vector code.)
    if line
        .iter()
        .fold(false, |bad, &c| bad | ((c < 0x20) & (c != b'\t')))
    {
        return None;
    }
    if line.len() > 12 && is_sip_version(&line[..7]) && line[7] == b' ' {
        let code = &line[8..11];
        if !code.iter().all(u8::is_ascii_digit) || line.get(11).is_some_and(|c| *c != b' ') {
            return None;
        }
        let code = code.iter().fold(0u16, |a, d| a * 10 + u16::from(d - b'0'));
        if !(100..=699).contains(&code) {
            return None;
        }
        let rest = &line[12..];
        let lead = rest.len() - rest.trim_ascii_start().len();
        let reason = (12 + lead, 12 + lead + rest.trim_ascii().len());
        return Some(StartSpan::Response { code, reason });
    }
    // Method, URI and version, separated by one or more spaces.
    let mut parts = [(0usize, 0usize); 3];
    let mut n = 0;
    let mut i = 0;
    while i < line.len() {
        if line[i] == b' ' {
            i += 1;
            continue;
        }
        let end = line[i..]
            .iter()
            .position(|&c| c == b' ')
            .map_or(line.len(), |k| i + k);
        if n == parts.len() {
            return None;
        }
        parts[n] = (i, end);
        n += 1;
        i = end;
    }
    let [method, uri, version] = parts;
    if n != 3
        || !is_token(&line[method.0..method.1])
        || !is_sip_version(&line[version.0..version.1])
    {
        return None;
    }
    Some(StartSpan::Request { method, uri })
}

/// Where the header block of `data` ends: `(header_len_without_blank_line, body_start)`.
pub(crate) fn header_end(data: &[u8]) -> Option<(usize, usize)> {
    // Two SIMD substring searches rather than a stop at every line: stream framing runs
    // this over the buffered bytes at every segment. The blank line is the first
    // `\n\r\n` unless a bare `\n\n` comes before it.
    use memchr::memmem::Finder;
    use std::sync::LazyLock;
    static CRLF: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\n\r\n"));
    static LF: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\n\n"));
    let crlf = CRLF.find(data);
    // A `\n\n` at `i` comes first when `i < crlf`, i.e. when it lies in `data[..=crlf]`.
    let before = crlf.map_or(data, |c| &data[..=c]);
    match (LF.find(before), crlf) {
        (Some(nl), _) => Some((nl + 1, nl + 2)),
        (None, Some(nl)) => Some((nl + 1, nl + 3)),
        (None, None) => None,
    }
}

/// The Content-Length announced in a header block, if any (`None` when absent).
/// `Err(())` when present but not a number.
pub(crate) fn content_length(head: &[u8]) -> Option<Result<usize, ()>> {
    for raw in head.split(|&c| c == b'\n').skip(1) {
        let line = trim_cr(raw);
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            continue;
        };
        let name = trim_ascii(&line[..colon]);
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            let v = trim_ascii(&line[colon + 1..]);
            return Some(
                std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<usize>().ok())
                    .ok_or(()),
            );
        }
    }
    None
}

pub(super) fn trim_ascii(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

/// The header lines of a message, as positions (the start line skipped).
pub(super) struct HeaderLines {
    pub(super) headers: Vec<Header>,
    /// Continuation lines: (index of the header they continue, line start, line end).
    pub(super) folds: Vec<(usize, usize, usize)>,
    /// Lines that are not headers, in order: (start, end, has a colon but no name).
    pub(super) bad: Vec<(usize, usize, bool)>,
    /// `(header_len_without_blank_line, body_start)` when a blank line ends the headers.
    pub(super) end: Option<(usize, usize)>,
}

/// Walks the lines after the start line up to the blank line, in one pass: the same
/// lines and the same end as [`header_end`] finds. `\n`, `\r` and `:` are ASCII, so on
/// text every position falls on a character boundary.
pub(super) fn walk_headers(bytes: &[u8]) -> HeaderLines {
    // On x86-64 with AVX2 the vector search is called directly, not through `memchr`'s
    // CPU dispatch on every call: there is a call per header line of every message.
    #[cfg(target_arch = "x86_64")]
    if let Some(avx2) = memchr::arch::x86_64::avx2::memchr::One::new(b'\n') {
        let colon = memchr::arch::x86_64::avx2::memchr::One::new(b':').expect("AVX2 as above");
        return walk_headers_with(bytes, |h| avx2.find(h), |h| colon.find(h));
    }
    walk_headers_with(
        bytes,
        |h| memchr::memchr(b'\n', h),
        |h| memchr::memchr(b':', h),
    )
}

/// [`walk_headers`] with `newline` and `colon` giving the first `\n` and `:` of a slice.
pub(super) fn walk_headers_with(
    bytes: &[u8],
    newline: impl Fn(&[u8]) -> Option<usize>,
    colon: impl Fn(&[u8]) -> Option<usize>,
) -> HeaderLines {
    let mut out = HeaderLines {
        headers: Vec::with_capacity(16),
        folds: Vec::new(),
        bad: Vec::new(),
        end: None,
    };
    let mut from = 0;
    let mut ends = std::iter::from_fn(|| {
        let at = from + newline(bytes.get(from..)?)?;
        from = at + 1;
        Some(at)
    });
    let Some(first) = ends.next() else {
        return out;
    };
    let mut pos = first + 1;
    while pos < bytes.len() {
        let (line_end, next) = match ends.next() {
            Some(nl) if nl > pos && bytes[nl - 1] == b'\r' => (nl - 1, nl + 1),
            Some(nl) => (nl, nl + 1),
            None => (bytes.len(), bytes.len()),
        };
        if line_end == pos {
            // The blank line (a last line without newline is never empty).
            out.end = Some((pos, next));
            return out;
        }
        header_line(bytes, pos, line_end, &mut out, &colon);
        pos = next;
    }
    out
}

pub(super) fn header_line(
    bytes: &[u8],
    start: usize,
    end: usize,
    out: &mut HeaderLines,
    find_colon: impl Fn(&[u8]) -> Option<usize>,
) {
    let line = &bytes[start..end];
    if matches!(line[0], b' ' | b'\t') {
        if let Some(last) = out.headers.len().checked_sub(1) {
            out.folds.push((last, start, end));
        }
        return;
    }
    let Some(colon) = find_colon(line) else {
        out.bad.push((start, end, false));
        return;
    };
    let (ns, ne) = trimmed(line, 0, colon);
    if ns == ne {
        out.bad.push((start, end, true));
        return;
    }
    let (vs, ve) = trimmed(line, colon + 1, line.len());
    out.headers.push(Header {
        key: canonical(&line[ns..ne]),
        name: ((start + ns) as u32, (start + ne) as u32),
        value: ((start + vs) as u32, (start + ve) as u32),
    });
}

/// `line[a..b]` without ASCII whitespace at either end (as `trim_ascii` does), as
/// positions in `line`: this runs for the name and the value of every header.
pub(super) fn trimmed(line: &[u8], mut a: usize, mut b: usize) -> (usize, usize) {
    while a < b && line[a].is_ascii_whitespace() {
        a += 1;
    }
    while b > a && line[b - 1].is_ascii_whitespace() {
        b -= 1;
    }
    (a, b)
}
