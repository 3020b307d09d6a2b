//! One test per precedence rule of the seed, named after the sentence it checks.

use std::net::IpAddr;

use super::config::{Config, Day, Transport};
use super::engine::route;
use super::matching::LocalTime;
use super::trace::{Decision, Entry, Failure, InviteFacts, Load, Outcome, SipAddr};

const BASE: &str = r#"
[system]
addresses = ["192.0.2.10"]

[[time_profile]]
name = "office-hours"
intervals = [{ days = ["mon","tue","wed","thu","fri"], start = "08:00", end = "17:00" }]
[[time_profile]]
name = "lunch"
intervals = [{ days = ["mon","tue","wed","thu","fri"], start = "12:00", end = "13:00" }]

[[user]]
name = "Anna"
extension = 201
sip_name = "anna"
[[user]]
name = "Ben"
extension = 202
sip_name = "sales"
[[group]]
name = "Sales"
extension = 300
sip_name = "sales"
[[group]]
name = "Support"
extension = 301
sip_name = "support"

[[line]]
number = 18
association = ["from-host"]
itsp_domain = "xcc.example"
[[line.uri]]
id = 1
local_uri = "use-internal-data"
incoming_group = 18

[[line]]
number = 17
association = ["source-ip"]
itsp_domain = "sip.provider.example"
itsp_proxy = ["198.51.100.1"]
service_busy_response = 503
[[line.appearance]]
id = 2
number = "4930555200"
incoming_group = 50
[[line.uri]]
id = 2
local_uri = "auto"
incoming_group = 17
[[line.uri]]
id = 1
local_uri = 4930555100
incoming_group = 16
max_sessions = 2

[[incoming_call_route]]
line_group = 17
incoming_number = ""
destination = "."

[[incoming_call_route]]
line_group = 16
incoming_number = ""
destination = "Support"
"#;

fn cfg(extra: &str) -> Config {
    Config::from_toml(&format!("{BASE}\n{extra}")).expect("valid test configuration")
}

fn provider(number: &str) -> InviteFacts {
    InviteFacts {
        transport: Transport::Udp,
        port: 5060,
        source: "198.51.100.1".parse().unwrap(),
        request_uri: SipAddr::parse(&format!("{number}@192.0.2.10")),
        to: None,
        from: SipAddr::parse("+4930999111@sip.provider.example"),
        via_host: None,
    }
}

/// Thursday 09:30 local.
fn morning() -> LocalTime {
    LocalTime {
        day: Day::Thu,
        minute: 9 * 60 + 30,
        date: (2026, 12, 3),
    }
}

fn run(c: &Config, inv: &InviteFacts) -> Decision {
    route(c, inv, morning(), &Load::default())
}

fn steps(d: &Decision) -> Vec<&'static str> {
    d.steps.iter().map(|s| s.step).collect()
}

#[test]
fn line_matching_protocol_and_port_else_ignored() {
    let c = cfg("");
    let mut inv = provider("201");
    inv.transport = Transport::Tcp;
    let d = run(&c, &inv);
    assert_eq!(d.outcome, Outcome::Ignored);
    assert_eq!(d.failure, Some(Failure::Line));
    assert_eq!(d.steps[0].step, "line.protocol");
    assert_eq!(d.steps[0].result, "no-match");
    assert!(d.steps[0].compared.contains("tcp:5060"), "{:?}", d.steps[0]);
    let mut inv = provider("201");
    inv.port = 5080;
    assert_eq!(run(&c, &inv).outcome, Outcome::Ignored);
}

#[test]
fn association_in_line_number_order() {
    // Both lines accept the call (line 18 by From host, line 17 by source address):
    // line 17 is tried first although it is written second.
    let c = cfg("");
    let mut inv = provider("201");
    inv.from = SipAddr::parse("anna@xcc.example");
    let d = run(&c, &inv);
    assert_eq!(d.line, Some(17));
    let assoc: Vec<_> = d
        .steps
        .iter()
        .filter(|s| s.step == "line.association")
        .collect();
    assert_eq!(assoc.len(), 1);
    assert!(
        assoc[0]
            .compared
            .starts_with("line 17: source-ip source 198.51.100.1")
    );
}

#[test]
fn association_method_no_line_ignores_the_call() {
    let c = cfg("");
    let mut inv = provider("201");
    inv.source = "203.0.113.9".parse::<IpAddr>().unwrap();
    let d = run(&c, &inv);
    assert_eq!(d.outcome, Outcome::Ignored);
    assert_eq!(
        steps(&d),
        [
            "line.protocol",
            "line.association",
            "line.association",
            "line.none"
        ]
    );
    assert_eq!(d.steps[1].result, "no-match");
    assert!(
        d.steps[2]
            .compared
            .contains("From host `sip.provider.example` vs itsp_domain `xcc.example`")
    );
    // From host association picks line 18 when the source is unknown.
    inv.from = SipAddr::parse("anna@XCC.example");
    assert_eq!(run(&c, &inv).line, Some(18));
}

#[test]
fn call_routing_method_picks_to_or_request_uri() {
    let c = cfg("");
    let mut inv = provider("4930555100");
    inv.to = Some(SipAddr::parse("sip:201@192.0.2.10"));
    // Request-URI (default): uri 1 (exact 4930555100) → group 16 → Support.
    let d = run(&c, &inv);
    assert_eq!((d.uri, d.destination.as_deref()), (Some(1), Some("301")));
    let c = Config::from_toml(&BASE.replace(
        "service_busy_response = 503",
        "service_busy_response = 503\ncall_routing_method = \"to\"",
    ))
    .unwrap();
    let d = run(&c, &inv);
    assert_eq!((d.uri, d.destination.as_deref()), (Some(2), Some("201")));
    assert!(
        d.steps
            .iter()
            .any(|s| s.compared.contains("Method to → `201`"))
    );
}

#[test]
fn line_appearances_before_uris() {
    // 4930555200 is both a line appearance and acceptable to the auto URI.
    let c = cfg("[[incoming_call_route]]\nline_group = 50\ndestination = \"Sales\"\n");
    let d = run(&c, &provider("4930555200"));
    assert_eq!((d.appearance, d.uri), (Some(2), None));
    assert_eq!(d.destination.as_deref(), Some("300"));
}

#[test]
fn entries_at_max_sessions_are_skipped() {
    let c = cfg("");
    let mut load = Load::default();
    load.in_use.insert((17, Entry::Uri(1)), 2);
    let d = route(&c, &provider("4930555100"), morning(), &load);
    // uri 1 is full: the auto uri 2 takes the call.
    assert_eq!(d.uri, Some(2));
    let skipped = d.steps.iter().find(|s| s.result == "skipped").unwrap();
    assert!(
        skipped.why.contains("2 in use ≥ max_sessions 2"),
        "{skipped:?}"
    );
    // The configuration's in_use counts too, and incoming_sessions is a limit of its own.
    let c = Config::from_toml(&BASE.replace(
        "incoming_group = 50",
        "incoming_group = 50\nincoming_sessions = 1\nin_use = 1",
    ))
    .unwrap();
    let d = run(&c, &provider("4930555200"));
    assert_eq!((d.appearance, d.uri), (None, Some(2)));
}

#[test]
fn no_match_gives_the_service_busy_response() {
    // Line 17 answers 503; line 18's default is 486. Without the auto URI nothing matches.
    let c =
        Config::from_toml(&BASE.replace("local_uri = \"auto\"", "local_uri = 4930555111")).unwrap();
    let d = run(&c, &provider("4930555999"));
    assert_eq!(d.outcome, Outcome::Busy { response: 503 });
    assert_eq!(d.failure, Some(Failure::Uri));
    assert_eq!(d.steps.last().unwrap().step, "uri.none");
    // All entries full → the same.
    let mut load = Load::default();
    load.in_use.insert((17, Entry::Uri(1)), 2);
    let d = route(&c, &provider("4930555100"), morning(), &load);
    assert_eq!(d.outcome, Outcome::Busy { response: 503 });
    let c = Config::from_toml(&BASE.replace("service_busy_response = 503", "")).unwrap();
    let mut load = Load::default();
    load.in_use.insert((17, Entry::Uri(2)), 10);
    load.in_use.insert((17, Entry::Uri(1)), 2);
    let d = route(&c, &provider("4930555100"), morning(), &load);
    assert_eq!(d.outcome, Outcome::Busy { response: 486 });
}

#[test]
fn incoming_group_must_match_the_line_group() {
    let c = cfg(
        "[[incoming_call_route]]\nline_group = 99\nincoming_number = 201\ndestination = \"Sales\"\n",
    );
    let d = run(&c, &provider("201"));
    assert_eq!(d.route, Some(0));
    let g = d
        .steps
        .iter()
        .find(|s| s.step == "route.line-group")
        .unwrap();
    assert_eq!(g.why, "line_group 17 in route(s) 0");
}

#[test]
fn blank_incoming_number_matches_any() {
    let c = cfg("");
    for n in ["201", "4930123", "anything"] {
        assert_eq!(run(&c, &provider(n)).route, Some(0), "{n}");
    }
}

#[test]
fn dot_destination_with_auto_is_the_extension() {
    let c = cfg("");
    let d = run(&c, &provider("202"));
    assert_eq!(
        (d.outcome.clone(), d.destination.as_deref()),
        (Outcome::Routed, Some("202"))
    );
    let r = d
        .steps
        .iter()
        .find(|s| s.step == "destination.resolve")
        .unwrap();
    assert_eq!(r.result, "match");
    assert!(r.compared.contains("(Auto)"));
    // Not an extension: presented as dialled, and the trace says short codes are unknown.
    let d = run(&c, &provider("777"));
    let r = d
        .steps
        .iter()
        .find(|s| s.step == "destination.resolve")
        .unwrap();
    assert_eq!(r.result, "no-match");
    assert!(r.why.contains("short codes"));
}

#[test]
fn dot_destination_with_use_internal_data_is_a_sip_name_of_users_then_groups() {
    let c = cfg("[[incoming_call_route]]\nline_group = 18\ndestination = \".\"\n");
    let mut inv = provider("sales");
    inv.source = "192.0.2.20".parse().unwrap();
    inv.from = SipAddr::parse("201@xcc.example");
    // Ben (user) and Sales (group) both have SIP name `sales`: the user wins.
    let d = run(&c, &inv);
    assert_eq!((d.line, d.destination.as_deref()), (Some(18), Some("202")));
    inv.request_uri = SipAddr::parse("support@192.0.2.10");
    assert_eq!(run(&c, &inv).destination.as_deref(), Some("301"));
    inv.request_uri = SipAddr::parse("anna@192.0.2.10");
    assert_eq!(run(&c, &inv).destination.as_deref(), Some("201"));
}

#[test]
fn incoming_cli_partial_for_numbers_exact_for_ip_addresses() {
    let c = cfg(
        "[[incoming_call_route]]\nline_group = 17\nincoming_cli = \"+4930\"\ndestination = \"Sales\"\n\
         [[incoming_call_route]]\nline_group = 17\nincoming_cli = \"198.51.100\"\ndestination = \"Ben\"\n",
    );
    let d = run(&c, &provider("201"));
    assert_eq!((d.route, d.destination.as_deref()), (Some(2), Some("300")));
    let mut inv = provider("201");
    inv.from = SipAddr::parse("sip:198.51.100.1");
    inv.from.host = Some("198.51.100.1".into());
    inv.from.user = String::new();
    // "198.51.100" is not the whole address: no match, the blank route takes the call.
    assert_eq!(run(&c, &inv).route, Some(0));
    let c = cfg(
        "[[incoming_call_route]]\nline_group = 17\nincoming_cli = \"198.51.100.1\"\ndestination = \"Ben\"\n",
    );
    assert_eq!(run(&c, &inv).route, Some(2));
}

#[test]
fn several_matches_the_most_precise_wins() {
    let c = cfg(
        "[[incoming_call_route]]\nline_group = 17\nincoming_number = \"XXX\"\ndestination = \"Ben\"\n\
         [[incoming_call_route]]\nline_group = 17\nincoming_number = \"5201\"\ndestination = \"Sales\"\n\
         [[incoming_call_route]]\nline_group = 17\nincoming_number = \"201\"\ndestination = \"Support\"\n\
         [[incoming_call_route]]\nline_group = 17\nincoming_number = \"201\"\nincoming_cli = \"+49\"\ndestination = \"Anna\"\n",
    );
    // Most criteria: number and CLI (route 5) beat number alone.
    let d = run(&c, &provider("4930555201"));
    assert_eq!(d.route, Some(5));
    let sel = d.steps.iter().find(|s| s.step == "route.select").unwrap();
    assert!(sel.why.contains("more criteria (2 vs 1)"), "{sel:?}");
    // Without a CLI match: most exact digits (5201 over 201 over XXX over blank).
    let mut inv = provider("4930555201");
    inv.from = SipAddr::parse("0301234@sip.provider.example");
    let d = run(&c, &inv);
    assert_eq!(d.route, Some(3));
    let sel = d.steps.iter().find(|s| s.step == "route.select").unwrap();
    assert!(sel.why.contains("more exact digits (4 vs 3)"), "{sel:?}");
    // A shorter received number: 201 (3 exact) beats 5201 (3 exact, potential, longer).
    assert_eq!(
        run(&c, &{
            let mut i = provider("201");
            i.from = inv.from.clone();
            i
        })
        .route,
        Some(4)
    );
}

#[test]
fn several_equal_matches_the_first_added_wins() {
    // Avaya's example 6: 6XXX and 8XXX both potentially match a 3-digit number.
    let c = cfg(
        "[[incoming_call_route]]\nline_group = 17\nincoming_number = \"6XXX\"\ndestination = \"Ben\"\n\
         [[incoming_call_route]]\nline_group = 17\nincoming_number = \"8XXX\"\ndestination = \"Sales\"\n",
    );
    let d = run(&c, &provider("123"));
    assert_eq!(d.route, Some(2));
    let sel = d.steps.iter().find(|s| s.step == "route.select").unwrap();
    assert_eq!(sel.why, "route 2 beats route 3: added first");
    // Example 5: 98XXX and 8XXX for 77: the shorter pattern.
    let c = cfg(
        "[[incoming_call_route]]\nline_group = 17\nincoming_number = \"98XXX\"\ndestination = \"Ben\"\n\
         [[incoming_call_route]]\nline_group = 17\nincoming_number = \"8XXX\"\ndestination = \"Sales\"\n",
    );
    assert_eq!(run(&c, &provider("77")).route, Some(3));
}

#[test]
fn no_route_auto_uri_tries_the_number_as_an_extension() {
    // Only a route for another group exists for group 17 callers... remove route 0.
    let text = BASE.replacen(
        "line_group = 17\nincoming_number = \"\"\ndestination = \".\"",
        "line_group = 70\ndestination = \".\"",
        1,
    );
    let c = Config::from_toml(&text).unwrap();
    let d = run(&c, &provider("201"));
    assert_eq!(
        (d.outcome.clone(), d.route, d.destination.as_deref()),
        (Outcome::Routed, None, Some("201"))
    );
    assert_eq!(d.steps.last().unwrap().step, "route.auto-extension");
    let d = run(&c, &provider("4930555999"));
    assert_eq!(d.outcome, Outcome::Busy { response: 503 });
    assert_eq!(d.failure, Some(Failure::Route));
    // Not an auto URI (uri 1, exact): no extension match is tried.
    let text = text.replace("local_uri = 4930555100", "local_uri = 201");
    let text = text.replace("local_uri = \"auto\"", "local_uri = 999");
    let c = Config::from_toml(&text.replace("line_group = 16", "line_group = 61")).unwrap();
    let d = run(&c, &provider("201"));
    assert_eq!(d.failure, Some(Failure::Route));
    assert_eq!(d.steps.last().unwrap().step, "route.none");
}

#[test]
fn time_profiles_from_the_bottom_first_true_else_default() {
    let c = cfg(
        "[[incoming_call_route]]\nline_group = 17\nincoming_number = 201\ndestination = \"Support\"\n\
         fallback = \"Anna\"\ntime_destinations = [\n\
         { time_profile = \"office-hours\", destination = \"Sales\", fallback = \"Ben\" },\n\
         { time_profile = \"lunch\", destination = \"Ben\" },\n]\n",
    );
    // 09:30: lunch (bottom) is false, office-hours is true.
    let d = run(&c, &provider("201"));
    assert_eq!(
        (d.destination.as_deref(), d.fallback.as_deref()),
        (Some("300"), Some("202"))
    );
    let tp: Vec<_> = d
        .steps
        .iter()
        .filter(|s| s.step == "destination.time-profile")
        .map(|s| (s.compared.as_str(), s.result))
        .collect();
    assert_eq!(
        tp,
        [
            ("time profile `lunch` at 2026-12-03 09:30 (thu)", "false"),
            (
                "time profile `office-hours` at 2026-12-03 09:30 (thu)",
                "true"
            )
        ]
    );
    // 12:30: both true; the bottom one wins.
    let noon = LocalTime {
        minute: 12 * 60 + 30,
        ..morning()
    };
    let d = route(&c, &provider("201"), noon, &Load::default());
    assert_eq!((d.destination.as_deref(), d.fallback), (Some("202"), None));
    // Saturday: the default pair.
    let sat = LocalTime {
        day: Day::Sat,
        ..morning()
    };
    let d = route(&c, &provider("201"), sat, &Load::default());
    assert_eq!(
        (d.destination.as_deref(), d.fallback.as_deref()),
        (Some("301"), Some("201"))
    );
}

#[test]
fn busy_destination_takes_the_fallback() {
    let c = cfg(
        "[[incoming_call_route]]\nline_group = 17\nincoming_number = 201\ndestination = 201\n\
         fallback = \"Sales\"\n",
    );
    let mut load = Load::default();
    load.busy.insert("Anna".into());
    let d = route(&c, &provider("201"), morning(), &load);
    assert_eq!(
        (d.outcome.clone(), d.destination.as_deref()),
        (Outcome::Routed, Some("300"))
    );
    assert_eq!(d.steps.last().unwrap().step, "destination.busy");
    // Busy without a fallback: the line's busy response.
    let c =
        cfg("[[incoming_call_route]]\nline_group = 17\nincoming_number = 201\ndestination = 201\n");
    let d = route(&c, &provider("201"), morning(), &load);
    assert_eq!(d.outcome, Outcome::Busy { response: 503 });
    assert_eq!(d.failure, Some(Failure::Destination));
}
