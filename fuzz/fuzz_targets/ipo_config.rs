//! The IP Office configuration of `ipo-route` (TOML): `Config::from_toml`, and when it
//! loads, a few INVITEs routed through it (line matching, URIs, incoming call routes with
//! time profiles, destinations), at a few local times and with a busy party.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipdiag::ipoffice::{self, Config, InviteFacts, Load, LocalTime, SipAddr, Transport};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cfg) = Config::from_toml(text) else {
        return;
    };
    let sources = ["127.0.0.1", "127.0.0.20", "::1"];
    let calls = [
        ("sip:201@127.0.0.10", "sip:+4930555@sip.provider.example"),
        ("sip:+4930123456@ipo", "sip:anonymous@anonymous.invalid"),
        ("tel:77", "sip:0301234@xcc.example"),
    ];
    let mut load = Load::default();
    load.busy.insert("201".to_string());
    for (i, (to, from)) in calls.iter().enumerate() {
        let source = sources[i].parse().expect("address");
        let inv = InviteFacts {
            transport: [Transport::Udp, Transport::Tcp, Transport::Tls][i],
            port: 5060,
            source,
            request_uri: SipAddr::parse(to),
            to: (i == 1).then(|| SipAddr::parse("sip:200@ipo")),
            from: SipAddr::parse(from),
            via_host: Some(sources[i].to_string()),
        };
        for secs in [0, 1_764_750_600, 1_767_225_599] {
            let at = LocalTime::from_unix(secs, cfg.system.utc_offset);
            let d = ipoffice::route(&cfg, &inv, at, &load);
            let _ = format!("{d:?} {at}");
        }
    }
});
