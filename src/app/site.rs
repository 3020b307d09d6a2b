//! The site settings: the `--site` file and flags read into the [`Site`] facts and the
//! [`MediaSettings`] (media ports), and the site completed from the calls' numbers.
//! Input: the command line's site and port options; output: `Site` and `MediaSettings`.

use anyhow::Context;

use crate::cli::{MediaPortArgs, SiteArgs};
use crate::media::MediaSettings;
use crate::numbers::Site;

fn parse_range(s: &str) -> anyhow::Result<(u16, u16)> {
    let (a, b) = s
        .split_once('-')
        .with_context(|| format!("port range {s:?} is not LOW-HIGH"))?;
    let (a, b): (u16, u16) = (
        a.trim()
            .parse()
            .with_context(|| format!("port range {s:?}"))?,
        b.trim()
            .parse()
            .with_context(|| format!("port range {s:?}"))?,
    );
    anyhow::ensure!(a <= b, "port range {s:?}: low end above high end");
    Ok((a, b))
}

/// The `--site` file: the [`Site`] facts and the media ports. Unknown keys are errors (a
/// misspelt key would otherwise be ignored silently), and the numeric facts may be written
/// as TOML numbers or strings (`country_code = 49` or `"49"`).
#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct SiteFile {
    #[serde(deserialize_with = "digits::opt")]
    country_code: Option<String>,
    #[serde(deserialize_with = "digits::opt")]
    area_code: Option<String>,
    #[serde(deserialize_with = "digits::opt_count")]
    internal_length: Option<usize>,
    #[serde(deserialize_with = "digits::opt")]
    outside_prefix: Option<String>,
    #[serde(deserialize_with = "digits::list")]
    known_users: Vec<String>,
    current_pattern: Option<String>,
    softphone_port: Option<u16>,
    server_media_ports: Option<String>,
    client_media_ports: Option<String>,
}

impl SiteFile {
    fn site(&self) -> Site {
        Site {
            country_code: self.country_code.clone(),
            area_code: self.area_code.clone(),
            internal_length: self.internal_length,
            outside_prefix: self.outside_prefix.clone(),
            known_users: self.known_users.clone(),
            current_pattern: self.current_pattern.clone(),
            ..Site::default()
        }
    }
}

/// Site-file values that are digits, written as a TOML number or a string.
mod digits {
    use serde::{Deserialize, Deserializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Digits {
        Number(u64),
        Text(String),
    }

    impl Digits {
        fn text(self) -> String {
            match self {
                Digits::Number(n) => n.to_string(),
                Digits::Text(s) => s,
            }
        }
    }

    pub(super) fn opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Some(
            Digits::deserialize(d)
                .map_err(|_| D::Error::custom("expected digits, as a number or a string"))?
                .text(),
        ))
    }

    pub(super) fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        let text = opt(d)?.unwrap_or_default();
        text.trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("expected a count, got {text:?}")))
    }

    pub(super) fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let v = Vec::<Digits>::deserialize(d)
            .map_err(|_| D::Error::custom("expected a list of numbers, as numbers or strings"))?;
        Ok(v.into_iter().map(Digits::text).collect())
    }
}

/// Site facts and media settings: file first, flags override.
pub(super) fn site_settings(
    args: &SiteArgs,
    ports: &MediaPortArgs,
) -> anyhow::Result<(Site, MediaSettings)> {
    let mut file = SiteFile::default();
    if let Some(path) = &args.site {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{path}: cannot read the site file"))?;
        file = toml::from_str(&text).map_err(|e| {
            // One line: toml's own Display quotes the source over several lines.
            let at = e
                .span()
                .and_then(|s| {
                    let start = text.get(..s.start)?;
                    let n = start.matches('\n').count();
                    let line = text.lines().nth(n)?.trim();
                    let mut quoted: String = line.chars().take(60).collect();
                    if quoted.len() < line.len() {
                        quoted.push('…');
                    }
                    Some(format!(" line {} `{quoted}`:", n + 1))
                })
                .unwrap_or_default();
            anyhow::anyhow!("{path}:{at} {}", e.message().trim())
        })?;
    }
    let mut site = file.site();
    site.country_code = args
        .country_code
        .clone()
        .or(site.country_code)
        .map(|c| c.trim_start_matches('+').to_string());
    site.area_code = args.area_code.clone().or(site.area_code);
    site.internal_length = args.internal_length.or(site.internal_length);
    site.outside_prefix = args.outside_prefix.clone().or(site.outside_prefix);
    site.known_users.extend(args.known_users.iter().cloned());
    // `--redact`: the known users as they read in the redacted capture.
    for u in &mut site.known_users {
        *u = crate::redact::number(u);
    }
    site.current_pattern = args.current_pattern.clone().or(site.current_pattern);
    let mut m = MediaSettings::default();
    if let Some(p) = ports.softphone_port.or(file.softphone_port) {
        m.softphone_port = p;
    }
    // A bad range names where it came from: the flag, or the key in the site file.
    let range = |flag: &Option<String>, key: &Option<String>, name: &str| {
        let r = match (flag, key) {
            (Some(r), _) => parse_range(r).with_context(|| format!("--{}", name.replace('_', "-"))),
            (None, Some(r)) => parse_range(r)
                .with_context(|| format!("{}: {name}", args.site.as_deref().unwrap_or_default())),
            (None, None) => return Ok(None),
        };
        r.map(Some)
    };
    if let Some(r) = range(
        &ports.server_media_ports,
        &file.server_media_ports,
        "server_media_ports",
    )? {
        m.server_ports = r;
    }
    if let Some(r) = range(
        &ports.client_media_ports,
        &file.client_media_ports,
        "client_media_ports",
    )? {
        m.client_ports = r;
    }
    Ok((site, m))
}

/// Every From/To user of the calls, for site inference. Diversion numbers are left out
/// on purpose: they are what is being judged.
/// Completes the site profile from the numbers of the calls that can be users (see
/// [`crate::calls::user_numbers`]).
pub(super) fn infer_site(
    site: &mut Site,
    calls: &[crate::calls::Call],
    legs: &crate::calls::legs::Legs,
) {
    use crate::calls::legs::LegKind;
    let numbers =
        crate::calls::user_numbers(calls, |c| legs.kind_of(&c.call_id) == LegKind::Second);
    crate::numbers::infer_site(site, numbers, crate::calls::USER_NUMBER_SOURCES);
}
