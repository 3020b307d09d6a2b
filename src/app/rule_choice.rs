//! Which rules a run asks for (`--select`, `--ignore`) and the severities it overrides
//! (`--severity RULE=LEVEL`).

use anyhow::Context;

use crate::rules::{self, RuleInfo, Severity};

/// The rules a run asks for (`--select`, `--ignore`) and the severities it overrides
/// (`--severity RULE=LEVEL`), checked against the catalogue.
#[derive(Clone)]
pub(super) struct RuleChoice {
    select: Vec<String>,
    ignore: Vec<String>,
    overrides: Vec<(&'static str, Severity)>,
    /// No rule at all ([`RuleChoice::none`]).
    none: bool,
}

impl RuleChoice {
    /// No rule: for a reading that only finds which calls a focus shows.
    pub(super) fn none() -> Self {
        RuleChoice {
            select: Vec::new(),
            ignore: Vec::new(),
            overrides: Vec::new(),
            none: true,
        }
    }

    pub(super) fn new(
        select: &[String],
        ignore: &[String],
        severity: &[String],
    ) -> anyhow::Result<Self> {
        let mut overrides = Vec::new();
        for s in severity {
            let (id, level) = s
                .split_once('=')
                .with_context(|| format!("--severity {s:?} is not RULE=LEVEL"))?;
            let rule =
                rules::lookup(id).with_context(|| format!("--severity: unknown rule {id:?}"))?;
            let level = match level.to_ascii_lowercase().as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "info" => Severity::Info,
                _ => anyhow::bail!("--severity {s:?}: level must be error, warning or info"),
            };
            overrides.push((rule.info().id, level));
        }
        for key in select.iter().chain(ignore) {
            rules::lookup(key)
                .with_context(|| format!("unknown rule {key:?} (see `sipdiag rules`)"))?;
        }
        Ok(RuleChoice {
            select: select.to_vec(),
            ignore: ignore.to_vec(),
            overrides,
            none: false,
        })
    }

    pub(super) fn enabled(&self, info: &RuleInfo) -> bool {
        let wanted = |k: &[String]| {
            k.iter()
                .any(|s| s.eq_ignore_ascii_case(info.id) || s.eq_ignore_ascii_case(info.slug))
        };
        !self.none && (self.select.is_empty() || wanted(&self.select)) && !wanted(&self.ignore)
    }

    pub(super) fn apply_severity(&self, findings: &mut [rules::Finding]) {
        for f in findings {
            if let Some((_, level)) = self.overrides.iter().find(|(id, _)| *id == f.id) {
                f.severity = *level;
            }
        }
    }
}
