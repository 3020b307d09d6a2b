//! SIP and SDP text under `--redact`: personal values overwritten in place.
//!
//! Input: the bytes of a SIP message (a UDP payload, or a TCP segment of a SIP stream,
//! which may start or end in the middle of a line). Output: the same bytes with every
//! phone number, URI user part, display name, host name and IP address replaced by its
//! token ([`Key`]), byte for byte the same length, so Content-Length and the packet's
//! lengths stay true.
//!
//! The text is read line by line and needs no whole message: the start line, headers by
//! name, SDP lines by type. Kept as they are: methods, status lines, header names,
//! User-Agent/Server (role inference reads them), CSeq, lengths, content types, Reason,
//! codecs, ports, ICE credentials (STUN repeats them), branch and tag structure. Values
//! of other headers are scanned for quoted strings, URIs, `@host`, addresses and digit
//! runs of three or more (numbers in X- headers, Call-IDs), so an unknown header leaks no
//! number or address; free words in unknown headers are not touched.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::token::Key;

/// Headers kept verbatim: what the diagnosis reads and holds nothing personal.
const KEEP: &[&str] = &[
    "user-agent",
    "server",
    "cseq",
    "max-forwards",
    "content-length",
    "l",
    "content-type",
    "c",
    "allow",
    "supported",
    "k",
    "require",
    "proxy-require",
    "unsupported",
    "accept",
    "accept-encoding",
    "accept-language",
    "expires",
    "min-expires",
    "session-expires",
    "x",
    "min-se",
    "event",
    "o",
    "allow-events",
    "u",
    "subscription-state",
    "rseq",
    "rack",
    "content-disposition",
    "content-encoding",
    "e",
    "mime-version",
    "priority",
    "privacy",
    "reason",
    "retry-after",
    "timestamp",
    "date",
    "content-language",
];
/// Headers whose whole value is free text (names of people or companies).
const FREE_TEXT: &[&str] = &["organization", "subject", "s"];
/// URI user parts that say what the caller chose, not who they are.
const KEEP_USERS: &[&str] = &[
    "anonymous",
    "unknown",
    "restricted",
    "unavailable",
    "private",
    "withheld",
    "invalid",
];

/// Redacts a SIP message, or a piece of a SIP stream, in place.
pub(crate) fn sip(key: &Key, buf: &mut [u8]) {
    sip_continued(key, &[], buf);
}

/// [`sip`] for a TCP segment whose first line continues `partial`, the unredacted end of
/// the previous segment (so that a header cut in two is still read by its name: the digits
/// of `Content-Length` stay digits). Only the bytes of `buf` are written.
pub(crate) fn sip_continued(key: &Key, partial: &[u8], buf: &mut [u8]) {
    let mut start = 0;
    while start < buf.len() {
        let end = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |p| start + p);
        let mut line_end = end;
        if line_end > start && buf[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        if start == 0 && !partial.is_empty() {
            let mut joined = [partial, &buf[..line_end]].concat();
            line(key, &mut joined);
            buf[..line_end].copy_from_slice(&joined[partial.len()..]);
        } else {
            line(key, &mut buf[start..line_end]);
        }
        start = end + 1;
    }
}

/// Whether `b` can be part of a header name (RFC 3261 `token`).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

fn line(key: &Key, l: &mut [u8]) {
    // (No header name holds a `/`: a line starting `SIP/2.0 ` is a status line.)
    if l.is_empty() || l.starts_with(b"SIP/2.0 ") || l.starts_with(b"--") {
        return; // status line; multipart boundary
    }
    if l.len() >= 2 && l[1] == b'=' && l[0].is_ascii_lowercase() {
        return sdp_line(key, l);
    }
    if let Some(colon) = memchr::memchr(b':', l) {
        let name = l[..colon].trim_ascii_end();
        if !name.is_empty() && name.iter().all(|b| is_token(*b)) {
            let lname = name.to_ascii_lowercase();
            let lname = std::str::from_utf8(&lname).unwrap_or_default();
            return header(key, lname, &mut l[colon + 1..]);
        }
    }
    generic(key, l);
}

/// One header's value, by the header's (lower-case) name.
pub(crate) fn header(key: &Key, name: &str, v: &mut [u8]) {
    if KEEP.contains(&name) {
        return;
    }
    if FREE_TEXT.contains(&name) {
        return key.name(v);
    }
    match name {
        "via" | "v" => via(key, v),
        "warning" => warning(key, v),
        _ => {
            display_names(key, v);
            generic(key, v);
        }
    }
}

/// Unquoted display names: the text before `<` in each element of a name-addr list.
fn display_names(key: &Key, v: &mut [u8]) {
    let mut i = 0;
    while i < v.len() {
        while i < v.len() && matches!(v[i], b' ' | b'\t' | b',') {
            i += 1;
        }
        let start = i;
        let (mut quoted, mut angle, mut lt) = (false, false, None);
        while i < v.len() {
            match v[i] {
                b'\\' if quoted => i += 1,
                b'"' => quoted = !quoted,
                b'<' if !quoted => {
                    angle = true;
                    lt.get_or_insert(i);
                }
                b'>' if !quoted => angle = false,
                b',' if !quoted && !angle => break,
                _ => {}
            }
            i += 1;
        }
        if let Some(lt) = lt
            && v.get(start) != Some(&b'"')
            && !v[start..lt].contains(&b';')
        {
            key.name(&mut v[start..lt]);
        }
    }
}

/// `SIP/2.0/UDP host:port;params, …`: the sent-by host and the parameters.
fn via(key: &Key, v: &mut [u8]) {
    let mut i = 0;
    while i < v.len() {
        while i < v.len() && matches!(v[i], b' ' | b'\t' | b',') {
            i += 1;
        }
        // The protocol, then whitespace, then the host.
        while i < v.len() && !matches!(v[i], b' ' | b'\t') {
            i += 1;
        }
        while i < v.len() && matches!(v[i], b' ' | b'\t') {
            i += 1;
        }
        i = host_at(key, v, i);
        let start = i;
        let mut quoted = false;
        while i < v.len() && (quoted || v[i] != b',') {
            if v[i] == b'"' {
                quoted = !quoted;
            }
            i += 1;
        }
        generic(key, &mut v[start..i]);
    }
}

/// `399 host "text"`: the code stays.
fn warning(key: &Key, v: &mut [u8]) {
    let mut i = 0;
    while i < v.len() && matches!(v[i], b' ' | b'\t') {
        i += 1;
    }
    while i < v.len() && v[i].is_ascii_digit() {
        i += 1;
    }
    while i < v.len() && matches!(v[i], b' ' | b'\t') {
        i += 1;
    }
    let i = host_at(key, v, i);
    generic(key, &mut v[i..]);
}

fn starts_with_ci(s: &[u8], p: &[u8]) -> bool {
    s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p)
}

/// Any value: quoted strings, URIs, `@host`, addresses, `maddr=`/`received=` hosts and
/// digit runs (numbers), left to right.
pub(crate) fn generic(key: &Key, s: &mut [u8]) {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let boundary = i == 0 || !s[i - 1].is_ascii_alphanumeric();
        if c == b'"' {
            let mut j = i + 1;
            while j < s.len() && s[j] != b'"' {
                j += if s[j] == b'\\' { 2 } else { 1 };
            }
            let end = j.min(s.len());
            key.name(&mut s[i + 1..end]);
            i = end + 1;
        } else if boundary
            && let Some(n) = [&b"sips:"[..], b"sip:", b"tel:"]
                .iter()
                .find(|p| starts_with_ci(&s[i..], p))
                .map(|p| p.len())
        {
            i = uri(key, s, i + n);
        } else if c == b'@' {
            i = host_at(key, s, i + 1);
        } else if c == b'[' {
            let end = memchr::memchr(b']', &s[i..]).map_or(i + 1, |p| i + p);
            if end > i + 1 {
                ipv6_text(key, &mut s[i + 1..end]);
            }
            i = end + 1;
        } else if c == b';' || c == b'&' {
            let rest = &s[i + 1..];
            let param = [&b"maddr="[..], b"received="]
                .iter()
                .find(|p| starts_with_ci(rest, p))
                .map(|p| p.len());
            i += 1;
            if let Some(n) = param {
                i = host_at(key, s, i + n);
            }
        } else if c.is_ascii_digit() && boundary && (i == 0 || s[i - 1] != b'.') {
            i = digits_at(key, s, i);
        } else {
            i += 1;
        }
    }
}

/// A digit run starting at `i`: an IPv4 address, a port (after `:`), the digits of a
/// word (hex: left), or a number of three or more digits (a `+` before it belongs to it).
fn digits_at(key: &Key, s: &mut [u8], i: usize) -> usize {
    if let Some(end) = ipv4_text(key, s, i) {
        return end;
    }
    let mut j = i;
    while j < s.len() && s[j].is_ascii_digit() {
        j += 1;
    }
    let in_word = s
        .get(j)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    let port = i > 0 && s[i - 1] == b':';
    let rport = s[..i].ends_with(b"rport=");
    if in_word {
        // The rest of a word such as a hex Call-ID: not a number.
        while j < s.len() && (s[j].is_ascii_alphanumeric() || s[j] == b'_') {
            j += 1;
        }
    } else if !port && !rport && j - i >= 3 {
        let from = if i > 0 && s[i - 1] == b'+' { i - 1 } else { i };
        key.number(&mut s[from..j]);
    }
    j
}

/// After `sip:`, `sips:` or `tel:` at `i`: the user part and the host; returns where the
/// URI's parameters begin.
fn uri(key: &Key, s: &mut [u8], i: usize) -> usize {
    let stop = |b: u8| b">;,? \t\"<".contains(&b);
    let mut j = i;
    while j < s.len() && !stop(s[j]) && s[j] != b'@' {
        j += 1;
    }
    if j < s.len() && s[j] == b'@' {
        let user = &mut s[i..j];
        match memchr::memchr(b':', user) {
            Some(p) => {
                user_part(key, &mut user[..p]);
                key.name(&mut user[p + 1..]);
            }
            None => user_part(key, user),
        }
        return host_at(key, s, j + 1);
    }
    // No user part: `sip:host`, or a `tel:` number.
    let what = &s[i..j];
    if what
        .first()
        .is_some_and(|b| *b == b'+' || b.is_ascii_digit())
        && what
            .iter()
            .all(|b| b.is_ascii_digit() || b"+-.()".contains(b))
        && ipv4_parse(what).is_none()
    {
        key.number(&mut s[i..j]);
        return j;
    }
    host_at(key, s, i)
}

/// A URI's user part: a number (digits with `+`, `*`, `#` and separators) or a name.
pub(crate) fn user_part(key: &Key, u: &mut [u8]) {
    if KEEP_USERS
        .iter()
        .any(|k| u.eq_ignore_ascii_case(k.as_bytes()))
    {
        return;
    }
    if u.iter().any(u8::is_ascii_digit)
        && u.iter()
            .all(|b| b.is_ascii_digit() || b"+*#-.()".contains(b))
    {
        key.number(u);
    } else {
        key.name(u);
    }
}

/// The host at `i` (a name, an IPv4 address or a bracketed IPv6 address); returns where
/// it ends (a port stays).
fn host_at(key: &Key, s: &mut [u8], i: usize) -> usize {
    if i >= s.len() {
        return i;
    }
    if s[i] == b'[' {
        let end = memchr::memchr(b']', &s[i..]).map_or(s.len(), |p| i + p);
        ipv6_text(key, &mut s[i + 1..end]);
        return end;
    }
    let mut j = i;
    while j < s.len() && (s[j].is_ascii_alphanumeric() || b"-._".contains(&s[j])) {
        j += 1;
    }
    // A bare IPv6 address (`received=2001:db8::1`).
    if j < s.len() && s[j] == b':' {
        let mut k = i;
        while k < s.len() && (s[k].is_ascii_hexdigit() || b":.".contains(&s[k])) {
            k += 1;
        }
        if let Some(t) = std::str::from_utf8(&s[i..k]).ok()
            && t.matches(':').count() >= 2
            && t.parse::<Ipv6Addr>().is_ok()
        {
            ipv6_text(key, &mut s[i..k]);
            return k;
        }
    }
    host_text(key, &mut s[i..j]);
    j
}

/// A host name (label by label; `invalid`, `localhost` and a short top-level domain
/// stay) or an address.
pub(crate) fn host_text(key: &Key, h: &mut [u8]) {
    if h.is_empty() {
        return;
    }
    if ipv4_text(key, h, 0) == Some(h.len()) {
        return;
    }
    let labels = h.split(|b| *b == b'.').count();
    let mut n = 0;
    for label in h.split_mut(|b| *b == b'.') {
        n += 1;
        let keep = [&b"invalid"[..], b"localhost", b"local"]
            .iter()
            .any(|k| label.eq_ignore_ascii_case(k))
            || (n == labels
                && labels >= 2
                && (2..=3).contains(&label.len())
                && label.iter().all(u8::is_ascii_alphabetic));
        if !keep {
            key.name(label);
        }
    }
}

/// Parses dotted-quad text (each octet 1-3 digits, at most 255).
fn ipv4_parse(s: &[u8]) -> Option<Ipv4Addr> {
    let t = std::str::from_utf8(s).ok()?;
    let mut o = [0u8; 4];
    let mut parts = t.split('.');
    for x in &mut o {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *x = p.parse().ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(o))
}

/// An IPv4 address written at `i` (not followed by more digits or dots-and-digits):
/// rewritten with its token, each octet at its written width. Returns where it ends.
fn ipv4_text(key: &Key, s: &mut [u8], i: usize) -> Option<usize> {
    let mut j = i;
    let mut dots = 0;
    while j < s.len() && (s[j].is_ascii_digit() || (s[j] == b'.' && dots < 3)) {
        dots += usize::from(s[j] == b'.');
        j += 1;
    }
    if s[i..j].ends_with(b".") {
        j -= 1;
    }
    if s.get(j).is_some_and(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let ip = ipv4_parse(&s[i..j])?;
    let token = key.ipv4(ip).octets();
    let mut k = 0;
    for (n, part) in s[i..j].split_mut(|b| *b == b'.').enumerate() {
        let text = format!("{:0w$}", token[n], w = part.len());
        part.copy_from_slice(text.as_bytes());
        k = n;
    }
    debug_assert_eq!(k, 3);
    Some(j)
}

/// An IPv6 address as text (with `::`, an optional zone and an embedded IPv4 tail):
/// every group rewritten at its written width and case.
pub(crate) fn ipv6_text(key: &Key, s: &mut [u8]) {
    let end = memchr::memchr(b'%', s).unwrap_or(s.len());
    let s = &mut s[..end];
    let Some(ip) = std::str::from_utf8(s)
        .ok()
        .and_then(|t| t.parse::<Ipv6Addr>().ok())
    else {
        return;
    };
    let token = key.ipv6(ip);
    let groups = token.segments();
    let upper = s.iter().any(u8::is_ascii_uppercase);
    // Group index of each written group: the head counts from 0, the tail back from 8.
    let text = s.to_vec();
    let (head, tail) = match text.windows(2).position(|w| w == b"::") {
        Some(p) => (&text[..p], Some(&text[p + 2..])),
        None => (&text[..], None),
    };
    let count = |part: &[u8]| -> usize {
        if part.is_empty() {
            return 0;
        }
        part.split(|b| *b == b':')
            .map(|g| if g.contains(&b'.') { 2 } else { 1 })
            .sum()
    };
    let mut fits = true;
    let mut write = |part: &[u8], offset: usize, first_group: usize, out: &mut [u8]| {
        let mut at = offset;
        let mut idx = first_group;
        for g in part.split(|b| *b == b':') {
            if g.contains(&b'.') {
                let v4 = Ipv4Addr::from([
                    (groups[6] >> 8) as u8,
                    groups[6] as u8,
                    (groups[7] >> 8) as u8,
                    groups[7] as u8,
                ]);
                let mut o = v4.octets().into_iter();
                let mut p = at;
                for oct in g.split(|b| *b == b'.') {
                    let t = format!("{:0w$}", o.next().unwrap_or(0), w = oct.len());
                    fits &= t.len() == oct.len();
                    if t.len() == oct.len() {
                        out[p..p + oct.len()].copy_from_slice(t.as_bytes());
                    }
                    p += oct.len() + 1;
                }
                idx += 2;
            } else if !g.is_empty() {
                let v = groups.get(idx).copied().unwrap_or(0);
                let t = if upper {
                    format!("{v:0w$X}", w = g.len())
                } else {
                    format!("{v:0w$x}", w = g.len())
                };
                fits &= t.len() == g.len();
                if t.len() == g.len() {
                    out[at..at + g.len()].copy_from_slice(t.as_bytes());
                }
                idx += 1;
            }
            at += g.len() + 1;
        }
    };
    write(head, 0, 0, s);
    if let Some(tail) = tail {
        write(tail, head.len() + 2, 8 - count(tail), s);
    }
    if !fits {
        // A written form the token cannot take at this width: never leave the address.
        key.name(s);
    }
}

/// One SDP line (`x=…`), by its type (RFC 8866 §5).
fn sdp_line(key: &Key, l: &mut [u8]) {
    let (kind, v) = (l[0], &mut l[2..]);
    match kind {
        b'o' => {
            for (n, w) in v.split_mut(|b| *b == b' ').enumerate() {
                match n {
                    0 if w != b"-" => user_part(key, w),
                    5 => address(key, w),
                    _ => {}
                }
            }
        }
        b'c' => {
            if let Some(w) = v.split_mut(|b| *b == b' ').nth(2) {
                let end = memchr::memchr(b'/', w).unwrap_or(w.len());
                address(key, &mut w[..end]);
            }
        }
        b's' if v != b"-" && v != b" " => key.name(v),
        b'i' | b'e' | b'p' | b'u' | b'k' => key.name(v),
        b'a' => {
            if starts_with_ci(v, b"crypto:") {
                if let Some(p) = v.windows(7).position(|w| w == b"inline:") {
                    let key_start = p + 7;
                    let end = v[key_start..]
                        .iter()
                        .position(|b| *b == b'|' || *b == b' ')
                        .map_or(v.len(), |e| key_start + e);
                    key.name(&mut v[key_start..end]);
                }
                return;
            }
            for w in v.split_mut(|b| *b == b' ') {
                if ipv4_parse(w).is_some()
                    || (w.contains(&b':')
                        && std::str::from_utf8(w).is_ok_and(|t| t.parse::<Ipv6Addr>().is_ok()))
                {
                    address(key, w);
                }
            }
        }
        _ => {}
    }
}

/// An SDP address: IPv4, IPv6 or a host name (`0.0.0.0`, hold, stays as tokens do).
fn address(key: &Key, w: &mut [u8]) {
    if ipv4_parse(w).is_some() {
        ipv4_text(key, w, 0);
    } else if w.contains(&b':') {
        ipv6_text(key, w);
    } else if w != b"-" {
        host_text(key, w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(msg: &str) -> String {
        let mut b = msg.as_bytes().to_vec();
        sip(&Key::from_passphrase("t"), &mut b);
        assert_eq!(b.len(), msg.len());
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn invite_leaks_nothing_and_keeps_structure() {
        let msg = "INVITE sip:+4930123456@pbx.example.com:5060;user=phone SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776;received=192.168.7.8;rport=5060\r\n\
From: \"Alice Smith\" <sip:201@10.1.2.3>;tag=ab12\r\n\
To: Bob Jones <sip:004930555666@xcc.example.com>\r\n\
Diversion: <sip:0301234567@10.1.2.3>;reason=unconditional;counter=1\r\n\
Call-ID: 3c26700a7a1a@10.1.2.3\r\n\
CSeq: 102 INVITE\r\n\
User-Agent: Avaya IP Office 11.1\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 120\r\n\
\r\n\
v=0\r\n\
o=alice 123 456 IN IP4 10.1.2.3\r\n\
s=-\r\n\
c=IN IP4 10.1.2.3\r\n\
m=audio 40000 RTP/AVP 0 8\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=candidate:1 1 UDP 2130706431 2001:db8::1 5000 typ host\r\n";
        let out = redact(msg);
        for leak in [
            "4930123456",
            "pbx",
            "example",
            "10.1.2.3",
            "192.168.7.8",
            "Alice",
            "Smith",
            "201@",
            "4930555666",
            "Bob",
            "Jones",
            "301234567",
            "alice",
            "2001:db8::1",
        ] {
            assert!(!out.contains(leak), "{leak} in\n{out}");
        }
        for kept in [
            "INVITE sip:+49",
            ":5060;user=phone SIP/2.0",
            "SIP/2.0/UDP ",
            ";rport=5060",
            "sip:0049",
            "sip:0",
            "CSeq: 102 INVITE",
            "User-Agent: Avaya IP Office 11.1",
            "Content-Length: 120",
            "m=audio 40000 RTP/AVP 0 8",
            "a=rtpmap:0 PCMU/8000",
            "reason=unconditional",
            ".com",
            "3c26700a7a1a@10.",
            "2001:",
            "c=IN IP4 10.",
        ] {
            assert!(out.contains(kept), "{kept} missing in\n{out}");
        }
        // The same address reads the same everywhere.
        let via = out.lines().nth(1).unwrap();
        let addr = &via["Via: SIP/2.0/UDP ".len().."Via: SIP/2.0/UDP ".len() + 8];
        assert_eq!(out.matches(addr).count(), 6, "{addr} in\n{out}");
        assert_eq!(out, redact(msg));
    }

    #[test]
    fn a_header_cut_between_segments_is_read_by_its_name() {
        let key = Key::from_passphrase("t");
        let mut second = b"gth: 1234\r\nTo: <sip:4930123@h>\r\n".to_vec();
        sip_continued(&key, b"Content-Len", &mut second);
        let out = String::from_utf8(second).unwrap();
        assert!(out.starts_with("gth: 1234\r\nTo: <sip:"), "{out}");
        assert!(!out.contains("4930123"), "{out}");
    }

    #[test]
    fn anonymous_and_status_lines_stay() {
        let out = redact("SIP/2.0 486 Busy Here\r\nFrom: <sip:anonymous@anonymous.invalid>\r\n");
        assert!(out.starts_with("SIP/2.0 486 Busy Here\r\nFrom: <sip:anonymous@"));
        assert!(out.ends_with(".invalid>\r\n"));
    }
}
