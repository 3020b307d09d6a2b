//! Typed views of the headers sipdiag reasons about.
//!
//! Parsing is lenient and total: whatever cannot be split the regular way is kept raw.
//! References: RFC 3261 §20 (From/To/Contact/Via/CSeq), RFC 5806 (Diversion),
//! RFC 7044 (History-Info), RFC 3325 (P-Asserted-Identity), RFC 3966 (tel URIs).

use serde::Serialize;

/// Splits a comma-separated header value into entries, ignoring commas inside quotes
/// and `<…>`.
pub fn split_list(value: &str) -> Vec<&str> {
    list_entries(value).collect()
}

/// The entries of a comma-separated header value, lazily (the first one is found without
/// scanning the rest).
pub fn list_entries(value: &str) -> impl Iterator<Item = &str> {
    let mut rest = value;
    std::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            let (mut quoted, mut angle, mut escaped) = (false, false, false);
            let mut cut = rest.len();
            // Byte by byte: every delimiter is ASCII, so `i` is a character boundary.
            for (i, c) in rest.bytes().enumerate() {
                if escaped {
                    escaped = false;
                    continue;
                }
                match c {
                    b'\\' if quoted => escaped = true,
                    b'"' => quoted = !quoted,
                    b'<' if !quoted => angle = true,
                    b'>' if !quoted => angle = false,
                    b',' if !quoted && !angle => {
                        cut = i;
                        break;
                    }
                    _ => {}
                }
            }
            let part = rest[..cut].trim();
            rest = rest.get(cut + 1..).unwrap_or("");
            if !part.is_empty() {
                return Some(part);
            }
        }
    })
}

/// A name-addr or addr-spec with its header parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct NameAddr {
    pub display: Option<String>,
    /// The URI without the angle brackets.
    pub uri: String,
    /// User part of a sip/sips URI, or the number of a tel URI.
    pub user: Option<String>,
    pub host: Option<String>,
    /// The first `tag` parameter's value.
    pub tag: Option<String>,
    /// The other header parameters after the address, lower-case names, values unquoted
    /// (the tag is kept once, in `tag`: most From and To headers have no other, and then
    /// no list is allocated).
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    /// The value of the first header parameter `name` (lower case), `tag` included.
    pub fn param(&self, name: &str) -> Option<&str> {
        if name == "tag" {
            return self.tag.as_deref();
        }
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        s[1..s.len() - 1].replace("\\\"", "\"")
    } else {
        s.to_string()
    }
}

/// Parses `["Name"] <uri>;params` or `uri;params`.
pub fn parse_name_addr(value: &str) -> NameAddr {
    let value = value.trim();
    let (display, uri, rest) = match (value.find('<'), value.rfind('>')) {
        (Some(lt), Some(gt)) if gt > lt => {
            let d = unquote(&value[..lt]);
            (
                (!d.is_empty()).then_some(d),
                value[lt + 1..gt].trim().to_string(),
                &value[gt + 1..],
            )
        }
        (Some(lt), _) => {
            // `<` never closed: the header was cut (snaplen, a damaged frame). The URI is
            // what follows `<`; without this the `<` and scheme would be read as the user.
            let d = unquote(&value[..lt]);
            let u = value[lt + 1..].trim();
            ((!d.is_empty()).then_some(d), u.to_string(), "")
        }
        _ => {
            // addr-spec: parameters after the URI belong to the header (RFC 3261 §20.10).
            let (u, r) = match value.find(';') {
                Some(i) => (&value[..i], &value[i..]),
                None => (value, ""),
            };
            (None, u.trim().to_string(), r)
        }
    };
    let mut params = Vec::new();
    let mut tag = None;
    let mut tagged = false;
    for (name, value) in parse_params(rest) {
        if name == "tag" && !tagged {
            tagged = true;
            tag = value;
        } else {
            params.push((name, value));
        }
    }
    let (user, host) = uri_parts(&uri);
    NameAddr {
        display,
        uri,
        user,
        host,
        tag,
        params,
    }
}

/// `;a=b;c` → `("a", Some("b")), ("c", None)`, names lower-cased, values unquoted.
fn parse_params(rest: &str) -> impl Iterator<Item = (String, Option<String>)> {
    rest.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((n, v)) => (n.trim().to_ascii_lowercase(), Some(unquote(v))),
            None => (p.to_ascii_lowercase(), None),
        })
}

/// User part and host of a URI; for `tel:` the number is the user.
pub fn uri_parts(uri: &str) -> (Option<String>, Option<String>) {
    let lower = uri
        .get(..4)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if lower == "tel:" {
        let num = uri[4..].split(';').next().unwrap_or("").trim();
        return ((!num.is_empty()).then(|| num.to_string()), None);
    }
    let after = match uri.find(':') {
        Some(i) if lower.starts_with("sip") => &uri[i + 1..],
        _ => uri,
    };
    let after = after.split(['?']).next().unwrap_or(after);
    match after.rfind('@') {
        Some(at) => {
            let user = after[..at].split(';').next().unwrap_or("");
            let user = user.split(':').next().unwrap_or(user); // drop a password
            let host = after[at + 1..].split(';').next().unwrap_or("");
            (
                (!user.is_empty()).then(|| percent_decode(user)),
                (!host.is_empty()).then(|| host.to_string()),
            )
        }
        None => {
            let host = after.split(';').next().unwrap_or("");
            (None, (!host.is_empty()).then(|| host.to_string()))
        }
    }
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// CSeq: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CSeq<'a> {
    pub seq: u32,
    /// The method as written in the message.
    pub method: &'a str,
}

pub fn parse_cseq(v: &str) -> Option<CSeq<'_>> {
    let mut it = v.split_ascii_whitespace();
    let seq = it.next()?.parse().ok()?;
    let method = it.next()?;
    Some(CSeq { seq, method })
}

/// One Via entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Via {
    pub transport: String,
    pub sent_by: String,
    pub branch: Option<String>,
    pub received: Option<String>,
}

pub fn parse_via(v: &str) -> Via {
    let (proto, rest) = v.trim().split_once(char::is_whitespace).unwrap_or((v, ""));
    let transport = proto.rsplit('/').next().unwrap_or("").to_ascii_uppercase();
    let rest = rest.trim();
    let (sent_by, params) = match rest.find(';') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let params: Vec<_> = parse_params(params).collect();
    let get = |n: &str| {
        params
            .iter()
            .find(|(k, _)| k == n)
            .and_then(|(_, v)| v.clone())
    };
    Via {
        transport,
        sent_by: sent_by.trim().to_string(),
        branch: get("branch"),
        received: get("received"),
    }
}

/// One Diversion entry (RFC 5806).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diversion {
    pub addr: NameAddr,
    pub reason: Option<String>,
    pub counter: Option<String>,
    pub raw: String,
}

pub fn parse_diversion(v: &str) -> Diversion {
    let addr = parse_name_addr(v);
    Diversion {
        reason: addr.param("reason").map(str::to_string),
        counter: addr.param("counter").map(str::to_string),
        addr,
        raw: v.to_string(),
    }
}

/// One History-Info entry (RFC 7044).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryInfo {
    pub addr: NameAddr,
    pub index: Option<String>,
    /// Cause from `;cause=` (RFC 4458) or an embedded `Reason=SIP;cause=N`.
    pub cause: Option<u16>,
    pub raw: String,
}

pub fn parse_history_info(v: &str) -> HistoryInfo {
    let addr = parse_name_addr(v);
    let mut cause = addr
        .param("cause")
        .and_then(|c| c.parse().ok())
        .or_else(|| {
            addr.uri
                .split_once(";cause=")
                .and_then(|(_, c)| c.split([';', '?', '&']).next()?.parse().ok())
        });
    if cause.is_none() {
        let decoded = percent_decode(&addr.uri).to_ascii_lowercase();
        if let Some(i) = decoded.find("cause=") {
            let digits: String = decoded[i + 6..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            cause = digits.parse().ok();
        }
    }
    HistoryInfo {
        index: addr.param("index").map(str::to_string),
        cause,
        addr,
        raw: v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lists_outside_quotes_and_brackets() {
        assert_eq!(
            split_list(r#""a, b" <sip:1@h;x=1,2>;r=1, <sip:2@h>"#),
            vec![r#""a, b" <sip:1@h;x=1,2>;r=1"#, "<sip:2@h>"]
        );
    }

    #[test]
    fn the_tag_is_kept_once_and_found_as_a_parameter() {
        // The usual From/To: a tag and nothing else, no list allocated for it.
        let n = parse_name_addr("<sip:2001@pbx>;tag=abc");
        assert_eq!(
            (n.tag.as_deref(), n.param("tag")),
            (Some("abc"), Some("abc"))
        );
        assert_eq!(n.params.capacity(), 0);
        // Other parameters stay in order around it; only the first tag is the tag.
        let n = parse_name_addr("<sip:2001@pbx>;reason=unconditional;TAG=x;counter=2;tag=y");
        assert_eq!(n.param("tag"), Some("x"));
        assert_eq!(n.param("reason"), Some("unconditional"));
        assert_eq!(n.param("counter"), Some("2"));
        let names: Vec<&str> = n.params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["reason", "counter", "tag"]);
        // A tag without a value is still the first tag: none.
        let n = parse_name_addr("<sip:2001@pbx>;tag;tag=z");
        assert_eq!((n.tag.as_deref(), n.param("tag")), (None, None));
    }

    #[test]
    fn name_addr_forms() {
        let n = parse_name_addr(r#""Alice" <sip:+4930123@pbx;user=phone>;tag=abc"#);
        assert_eq!(n.display.as_deref(), Some("Alice"));
        assert_eq!(n.user.as_deref(), Some("+4930123"));
        assert_eq!(n.host.as_deref(), Some("pbx"));
        assert_eq!(n.tag.as_deref(), Some("abc"));
        let n = parse_name_addr("sip:123@h;tag=t");
        assert_eq!(
            (n.user.as_deref(), n.tag.as_deref()),
            (Some("123"), Some("t"))
        );
        let n = parse_name_addr("<tel:+49-30-123;phone-context=x>");
        assert_eq!(n.user.as_deref(), Some("+49-30-123"));
        let n = parse_name_addr("<sip:%2B49301@h>");
        assert_eq!(n.user.as_deref(), Some("+49301"));
        // Cut by the capture's snaplen before `>` (testdata/reader/snaplen-cut.pcap): the
        // URI is what follows `<`, not `<sip` as the user.
        let n = parse_name_addr("<sip:2001@127.0.0.2");
        assert_eq!(
            (n.user.as_deref(), n.host.as_deref()),
            (Some("2001"), Some("127.0.0.2"))
        );
        let n = parse_name_addr(r#""Bob" <sip:20"#);
        assert_eq!((n.display.as_deref(), n.user), (Some("Bob"), None));
    }

    #[test]
    fn diversion_and_history_info() {
        let d = parse_diversion(r#"<sip:004930123@pbx>;reason="unconditional";counter=1"#);
        assert_eq!(d.addr.user.as_deref(), Some("004930123"));
        assert_eq!(d.reason.as_deref(), Some("unconditional"));
        let h = parse_history_info("<sip:123@h?Reason=SIP%3Bcause%3D302>;index=1.1");
        assert_eq!(h.index.as_deref(), Some("1.1"));
        assert_eq!(h.cause, Some(302));
        assert_eq!(h.addr.user.as_deref(), Some("123"));
        let h = parse_history_info("<sip:123@h;cause=486>;index=1.2");
        assert_eq!(h.cause, Some(486));
    }

    #[test]
    fn via_and_cseq() {
        let v = parse_via("SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-1;rport");
        assert_eq!(v.transport, "TCP");
        assert_eq!(v.sent_by, "10.0.0.1:5060");
        assert_eq!(v.branch.as_deref(), Some("z9hG4bK-1"));
        assert_eq!(
            parse_cseq("12 INVITE"),
            Some(CSeq {
                seq: 12,
                method: "INVITE"
            })
        );
        assert_eq!(parse_cseq("x"), None);
    }
}
