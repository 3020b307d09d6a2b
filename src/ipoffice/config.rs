//! The IP Office configuration that the routing replay reads: a TOML file whose keys
//! mirror the IP Office Manager fields the incoming routing depends on.
//!
//! Input: TOML text. Output: a validated [`Config`]. Invariants: unknown keys are
//! rejected (serde names the key and its place), numbers may be written as TOML numbers
//! or strings, every `time_profile` a route names exists, every Service Busy Response
//! is 486 or 503, and Incoming Number patterns use only what the engine implements.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Deserializer};

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    #[error("{0}")]
    Invalid(String),
}

/// A whole IP Office configuration, as far as incoming SIP routing needs it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub system: System,
    #[serde(default, rename = "time_profile")]
    pub time_profiles: Vec<TimeProfile>,
    #[serde(default, rename = "user")]
    pub users: Vec<Party>,
    #[serde(default, rename = "group")]
    pub groups: Vec<Party>,
    #[serde(default, rename = "line")]
    pub lines: Vec<Line>,
    /// In the order they were added: the last tie-break of route selection.
    #[serde(default, rename = "incoming_call_route")]
    pub routes: Vec<IncomingCallRoute>,
}

/// The system itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct System {
    /// Addresses INVITEs to this IP Office are sent to.
    pub addresses: Vec<IpAddr>,
    /// The system's offset from UTC (`+01:00`), for time profiles of calls replayed from
    /// a capture (capture timestamps are UTC). Default `+00:00`.
    #[serde(default, deserialize_with = "offset")]
    pub utc_offset: i32,
}

/// A named set of weekly intervals.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeProfile {
    pub name: String,
    pub intervals: Vec<Interval>,
}

/// Days and a time span; `end` before `start` runs past midnight.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    pub days: Vec<Day>,
    #[serde(deserialize_with = "clock")]
    pub start: u16,
    #[serde(deserialize_with = "clock")]
    pub end: u16,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    /// Monday = 0.
    pub(crate) const ALL: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][*self as usize];
        f.write_str(s)
    }
}

/// A user or a hunt group (same keys).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub name: String,
    #[serde(deserialize_with = "text")]
    pub extension: String,
    /// SIP Name, used by Local URI "Use Internal Data"; IP Office defaults it to the
    /// extension number.
    #[serde(default, deserialize_with = "opt_text")]
    pub sip_name: Option<String>,
    /// The party is busy: a route to it takes its fallback.
    #[serde(default)]
    pub busy: bool,
}

impl Party {
    pub(crate) fn sip_name(&self) -> &str {
        self.sip_name.as_deref().unwrap_or(&self.extension)
    }
}

/// SIP transport of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Udp,
    Tcp,
    Tls,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        })
    }
}

/// Line Association Method, in IP Office's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Association {
    /// By Source IP address: against the ITSP Proxy Address(es).
    SourceIp,
    /// From header hostpart against the ITSP domain.
    FromHost,
    /// R-URI hostpart against the ITSP domain.
    RequestUriHost,
    /// To header hostpart against the ITSP domain.
    ToHost,
    /// Via header hostpart against the ITSP domain or proxy.
    ViaHost,
    /// Any call.
    Any,
}

impl fmt::Display for Association {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Association::SourceIp => "source-ip",
            Association::FromHost => "from-host",
            Association::RequestUriHost => "request-uri-host",
            Association::ToHost => "to-host",
            Association::ViaHost => "via-host",
            Association::Any => "any",
        })
    }
}

/// Which header gives the called number (SIP Line > Call Routing Method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallRoutingMethod {
    #[default]
    RequestUri,
    To,
}

/// A SIP line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub number: u32,
    #[serde(default)]
    pub transport: Transport,
    /// Listening port; IP Office's default is 5060 (5061 for TLS).
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default = "default_association")]
    pub association: Vec<Association>,
    #[serde(default)]
    pub itsp_domain: String,
    #[serde(default)]
    pub itsp_proxy: Vec<String>,
    #[serde(default)]
    pub call_routing_method: CallRoutingMethod,
    #[serde(default = "default_busy")]
    pub service_busy_response: u16,
    #[serde(default)]
    pub appearance: Vec<Appearance>,
    #[serde(default)]
    pub uri: Vec<Uri>,
}

impl Line {
    pub(crate) fn port(&self) -> u16 {
        self.port.unwrap_or(match self.transport {
            Transport::Tls => 5061,
            _ => 5060,
        })
    }
}

fn default_association() -> Vec<Association> {
    vec![Association::SourceIp]
}

fn default_busy() -> u16 {
    486
}

/// A SIP line appearance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appearance {
    /// Incoming ID: the order in which appearances are tried.
    pub id: u32,
    #[serde(deserialize_with = "text")]
    pub number: String,
    pub incoming_group: u32,
    #[serde(default)]
    pub max_sessions: Option<u32>,
    #[serde(default)]
    pub incoming_sessions: Option<u32>,
    #[serde(default)]
    pub in_use: u32,
}

/// What a SIP URI's Local URI accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalUri {
    /// "Auto": any called number; the number itself may reach an extension.
    Auto,
    /// "Use Internal Data": any called name, resolved against users' and groups' SIP names.
    UseInternalData,
    /// `*`: any called number.
    Wildcard,
    /// This number or user only.
    Exact(String),
}

impl fmt::Display for LocalUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalUri::Auto => f.write_str("auto"),
            LocalUri::UseInternalData => f.write_str("use-internal-data"),
            LocalUri::Wildcard => f.write_str("*"),
            LocalUri::Exact(s) => f.write_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for LocalUri {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = text(d)?;
        Ok(match s.as_str() {
            "auto" => LocalUri::Auto,
            "use-internal-data" => LocalUri::UseInternalData,
            "*" => LocalUri::Wildcard,
            _ => LocalUri::Exact(s),
        })
    }
}

/// A SIP URI entry of a line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uri {
    pub id: u32,
    pub local_uri: LocalUri,
    pub incoming_group: u32,
    /// Max Sessions; IP Office's default is 10.
    #[serde(default)]
    pub max_sessions: Option<u32>,
    #[serde(default)]
    pub incoming_sessions: Option<u32>,
    #[serde(default)]
    pub in_use: u32,
}

/// An incoming call route.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncomingCallRoute {
    pub line_group: u32,
    #[serde(default, deserialize_with = "text")]
    pub incoming_number: String,
    #[serde(default, deserialize_with = "text")]
    pub incoming_cli: String,
    #[serde(default, deserialize_with = "text")]
    pub destination: String,
    #[serde(default, deserialize_with = "text")]
    pub fallback: String,
    #[serde(default)]
    pub time_destinations: Vec<TimeDestination>,
}

/// A destination pair used while its time profile is true.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeDestination {
    pub time_profile: String,
    #[serde(deserialize_with = "text")]
    pub destination: String,
    #[serde(default, deserialize_with = "text")]
    pub fallback: String,
}

/// A TOML string or number as text (IP Office numbers are digit strings; `0201` keeps
/// its zero only when written as a string).
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        S(String),
        I(i64),
    }
    match Scalar::deserialize(d) {
        Ok(Scalar::S(s)) => Ok(s),
        Ok(Scalar::I(i)) => Ok(i.to_string()),
        Err(_) => Err(serde::de::Error::custom("expected a string or an integer")),
    }
}

fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    text(d).map(Some)
}

/// `HH:MM` → minutes after midnight (`24:00` allowed as an end).
fn clock<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let s = String::deserialize(d)?;
    parse_clock(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not HH:MM")))
}

pub(crate) fn parse_clock(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// `+HH:MM` / `-HH:MM` / `Z` → minutes east of UTC.
fn offset<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let s = String::deserialize(d)?;
    parse_offset(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not +HH:MM")))
}

pub(crate) fn parse_offset(s: &str) -> Option<i32> {
    if s == "Z" || s == "z" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(sign * (h * 60 + m))
}

impl Config {
    /// Parses and validates a configuration.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let c: Config = toml::from_str(text)?;
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |s: String| Err(ConfigError::Invalid(s));
        let profiles: BTreeSet<&str> = self.time_profiles.iter().map(|p| p.name.as_str()).collect();
        let mut numbers = BTreeSet::new();
        for l in &self.lines {
            if !numbers.insert(l.number) {
                return bad(format!("line {}: line number used twice", l.number));
            }
            if !matches!(l.service_busy_response, 486 | 503) {
                return bad(format!(
                    "line {}: service_busy_response = {} (IP Office offers 486 or 503)",
                    l.number, l.service_busy_response
                ));
            }
            if l.association.is_empty() {
                return bad(format!("line {}: association is empty", l.number));
            }
            for u in &l.uri {
                if l.uri.iter().filter(|v| v.id == u.id).count() > 1 {
                    return bad(format!("line {}: uri id {} used twice", l.number, u.id));
                }
            }
        }
        for (i, r) in self.routes.iter().enumerate() {
            if r.incoming_number.starts_with('*') {
                return bad(format!(
                    "incoming_call_route {i}: incoming_number `{}`: the `*` prefix (CLI \
                     matching takes precedence) is not modelled by the replay",
                    r.incoming_number
                ));
            }
            for t in &r.time_destinations {
                if !profiles.contains(t.time_profile.as_str()) {
                    return bad(format!(
                        "incoming_call_route {i}: time_profile `{}` is not defined \
                         (add a [[time_profile]] with that name)",
                        t.time_profile
                    ));
                }
            }
        }
        Ok(())
    }

    /// The user or group whose extension or name is `dest`.
    pub(crate) fn party(&self, dest: &str) -> Option<&Party> {
        self.users
            .iter()
            .chain(&self.groups)
            .find(|p| p.extension == dest || p.name.eq_ignore_ascii_case(dest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let e = Config::from_toml("[system]\naddresses = []\nadresses = 1\n").unwrap_err();
        assert!(e.to_string().contains("adresses"), "{e}");
        let e = Config::from_toml(
            "[system]\naddresses = []\n[[line]]\nnumber = 1\n[[line.uri]]\nid = 1\n\
             local_uri = \"auto\"\nincoming_group = 1\nmax_session = 3\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("max_session"), "{e}");
    }

    #[test]
    fn numbers_as_numbers() {
        let c = Config::from_toml(
            "[system]\naddresses = [\"192.0.2.10\"]\n[[user]]\nname = \"A\"\nextension = 201\n\
             [[incoming_call_route]]\nline_group = 1\nincoming_number = 4930123\ndestination = 201\n",
        )
        .unwrap();
        assert_eq!(c.users[0].extension, "201");
        assert_eq!(c.routes[0].incoming_number, "4930123");
        assert_eq!(c.routes[0].destination, "201");
    }

    #[test]
    fn example_reads() {
        let c = Config::from_toml(include_str!("../../testdata/ipoffice/example.toml")).unwrap();
        assert_eq!(c.lines.len(), 2);
        assert_eq!(c.routes.len(), 8);
        assert_eq!(c.system.utc_offset, 60);
        assert_eq!(c.lines[1].uri[0].local_uri, LocalUri::UseInternalData);
        assert_eq!(c.routes[4].incoming_number, "4930555201");
        assert!(c.users[2].busy);
    }

    #[test]
    fn checks() {
        let e = Config::from_toml(
            "[system]\naddresses = []\n[[line]]\nnumber = 1\nservice_busy_response = 404\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("486 or 503"), "{e}");
        let e = Config::from_toml(
            "[system]\naddresses = []\n[[incoming_call_route]]\nline_group = 1\n\
             time_destinations = [{ time_profile = \"night\", destination = \"1\" }]\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("night"), "{e}");
        assert_eq!(parse_clock("8:05"), Some(485));
        assert_eq!(parse_clock("24:00"), Some(1440));
        assert_eq!(parse_clock("24:01"), None);
        assert_eq!(parse_offset("-05:30"), Some(-330));
    }
}
