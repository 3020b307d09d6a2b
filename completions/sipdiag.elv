
use builtin;
use str;

set edit:completion:arg-completer[sipdiag] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'sipdiag'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'sipdiag'= {
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand messages 'List every SIP message with its Wireshark frame number'
            cand calls 'Group SIP messages into calls by Call-ID'
            cand analyze 'Diagnose failed Follow-Me and softphone calls: findings with frames and fixes'
            cand media 'STUN transactions and RTP/RTCP streams'
            cand flow 'Draw calls as a ladder: one column per host, both Follow-Me legs in one time order, the frames that findings cite marked'
            cand extract 'Cut the selected call out of the captures as pcapng: its SIP and its linked Follow-Me leg''s, with their media (RTP/RTCP/STUN to and from the addresses their SDP announced, while the call lasts)'
            cand watch 'Judge each call as soon as it has ended, while the capture is read (or still being written, with --follow): its findings printed then, memory held only for the calls in progress; the rules that compare calls report at the end. The media rules need `analyze`'
            cand rules 'List the diagnosis rules'
            cand explain 'Print the documentation of one rule (id or slug)'
            cand pattern 'Work with XccDiversionPattern rewrites'
            cand ipo-route 'Replay Avaya IP Office''s routing of incoming SIP calls from its configuration'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sipdiag;messages'= {
            cand -f 'Output format'
            cand --format 'Output format'
            cand --time 'The Time column of `messages` (table): absolute (RFC 3339, UTC), relative (seconds since the first message listed) or delta (since the previous one), as in Wireshark'
            cand --call-id 'Only the call with this Call-ID (repeatable)'
            cand --number 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)'
            cand --ip 'Only calls with a message from or to this address (repeatable)'
            cand --since 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture''s first day'
            cand --until 'Only calls that started at or before this time (as --since)'
            cand --redact-key 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]'
            cand --max-tcp-connections 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]'
            cand --max-fragments 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average); beyond, the least recently added-to is dropped [default: 4096]'
            cand --max-media-flows 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call''s media is not judged [default: 100000]'
            cand --max-sip-message 'Largest SIP message on TCP, in bytes; a longer body is skipped unread [default: 1048576]'
            cand --max-sip-header 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]'
            cand --max-calls 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]'
            cand --max-sdp-announcements 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]'
            cand --max-rtp-streams 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]'
            cand --max-rtp-streams-per-flow 'RTP streams (SSRCs) followed on one UDP flow [default: 16]'
            cand --max-stun-transactions 'STUN transactions kept [default: 100000]'
            cand --max-stun-tcp-connections 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]'
            cand --max-softphone-connections 'Softphone signalling connections followed [default: 10000]'
            cand --max-icmp-errors 'ICMP errors kept as evidence [default: 10000]'
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand -v 'Whole Call-IDs in the `calls` table (shortened to 24 characters otherwise)'
            cand --verbose 'Whole Call-IDs in the `calls` table (shortened to 24 characters otherwise)'
            cand --redact 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sipdiag;calls'= {
            cand -f 'Output format'
            cand --format 'Output format'
            cand --time 'The Time column of `messages` (table): absolute (RFC 3339, UTC), relative (seconds since the first message listed) or delta (since the previous one), as in Wireshark'
            cand --call-id 'Only the call with this Call-ID (repeatable)'
            cand --number 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)'
            cand --ip 'Only calls with a message from or to this address (repeatable)'
            cand --since 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture''s first day'
            cand --until 'Only calls that started at or before this time (as --since)'
            cand --redact-key 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]'
            cand --max-tcp-connections 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]'
            cand --max-fragments 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average); beyond, the least recently added-to is dropped [default: 4096]'
            cand --max-media-flows 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call''s media is not judged [default: 100000]'
            cand --max-sip-message 'Largest SIP message on TCP, in bytes; a longer body is skipped unread [default: 1048576]'
            cand --max-sip-header 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]'
            cand --max-calls 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]'
            cand --max-sdp-announcements 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]'
            cand --max-rtp-streams 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]'
            cand --max-rtp-streams-per-flow 'RTP streams (SSRCs) followed on one UDP flow [default: 16]'
            cand --max-stun-transactions 'STUN transactions kept [default: 100000]'
            cand --max-stun-tcp-connections 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]'
            cand --max-softphone-connections 'Softphone signalling connections followed [default: 10000]'
            cand --max-icmp-errors 'ICMP errors kept as evidence [default: 10000]'
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand -v 'Whole Call-IDs in the `calls` table (shortened to 24 characters otherwise)'
            cand --verbose 'Whole Call-IDs in the `calls` table (shortened to 24 characters otherwise)'
            cand --redact 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sipdiag;analyze'= {
            cand -f 'Report format'
            cand --format 'Report format'
            cand -o 'Write the report to FILE instead of standard output'
            cand --output 'Write the report to FILE instead of standard output'
            cand --fail-on 'Exit 1 when a finding at or above this severity is reported'
            cand --select 'Run only these rules (ids or slugs, comma-separated or repeated)'
            cand --ignore 'Skip these rules (ids or slugs)'
            cand --severity 'Override a rule''s severity, e.g. SIP001=error (repeatable)'
            cand --xcc 'XCC''s address (ADDR or ADDR:PORT); repeat for several trunks. Overrides inference (for `watch`, recommended: without it, XCC is known only once a call has shown it)'
            cand --pbx 'The PBX''s address (ADDR or ADDR:PORT). Overrides inference'
            cand --ipo 'An IP Office address (repeatable): its incoming calls are checked (IPO rules)'
            cand --ipo-config 'The IP Office configuration (TOML, as for `ipo-route`): the IPO rules replay its routing'
            cand --annotate 'Also write the capture to this file as pcapng, with a packet comment `sipdiag ID slug: title` on every frame a finding cites (Wireshark: frame.comment). Takes one capture file, not standard input: it is read again once the findings are known'
            cand --call-id 'Only the call with this Call-ID (repeatable)'
            cand --number 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)'
            cand --ip 'Only calls with a message from or to this address (repeatable)'
            cand --since 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture''s first day'
            cand --until 'Only calls that started at or before this time (as --since)'
            cand --site 'Site profile (TOML): country_code, area_code, internal_length, outside_prefix, known_users, current_pattern, softphone_port, server_media_ports, client_media_ports'
            cand --country-code 'Country calling code, e.g. 49'
            cand --area-code 'Area code without the leading 0, e.g. 30'
            cand --internal-length 'Length of internal numbers, e.g. 3'
            cand --outside-prefix 'Outside-line prefix, e.g. 0'
            cand --known-user 'A number that belongs to an XPhone user (repeatable)'
            cand --current-pattern 'The XccDiversionPattern configured today, to build the suggestion on'
            cand --softphone-port 'TCP port of the softphone signalling [default: 2230]'
            cand --server-media-ports 'Server (XCC) media UDP range [default: 30000-33000]'
            cand --client-media-ports 'Client (softphone) media UDP range [default: 49152-65535]'
            cand --redact-key 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]'
            cand --max-tcp-connections 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]'
            cand --max-fragments 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average); beyond, the least recently added-to is dropped [default: 4096]'
            cand --max-media-flows 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call''s media is not judged [default: 100000]'
            cand --max-sip-message 'Largest SIP message on TCP, in bytes; a longer body is skipped unread [default: 1048576]'
            cand --max-sip-header 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]'
            cand --max-calls 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]'
            cand --max-sdp-announcements 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]'
            cand --max-rtp-streams 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]'
            cand --max-rtp-streams-per-flow 'RTP streams (SSRCs) followed on one UDP flow [default: 16]'
            cand --max-stun-transactions 'STUN transactions kept [default: 100000]'
            cand --max-stun-tcp-connections 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]'
            cand --max-softphone-connections 'Softphone signalling connections followed [default: 10000]'
            cand --max-icmp-errors 'ICMP errors kept as evidence [default: 10000]'
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand --flow 'After the report (table or markdown), draw the ladder of each failed call with its linked leg (as `sipdiag flow`)'
            cand --each 'Analyse each capture on its own, several at a time (a directory: every capture file in it and below): one report per file, then a summary table; the exit code is the worst file''s'
            cand -v 'Every finding of each group, every healthy call and whole Call-IDs (JSON always has them all)'
            cand --verbose 'Every finding of each group, every healthy call and whole Call-IDs (JSON always has them all)'
            cand --redact 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sipdiag;media'= {
            cand -f 'Output format'
            cand --format 'Output format'
            cand --call-id 'Only the call with this Call-ID (repeatable)'
            cand --number 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)'
            cand --ip 'Only calls with a message from or to this address (repeatable)'
            cand --since 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture''s first day'
            cand --until 'Only calls that started at or before this time (as --since)'
            cand --softphone-port 'TCP port of the softphone signalling [default: 2230]'
            cand --server-media-ports 'Server (XCC) media UDP range [default: 30000-33000]'
            cand --client-media-ports 'Client (softphone) media UDP range [default: 49152-65535]'
            cand --redact-key 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]'
            cand --max-tcp-connections 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]'
            cand --max-fragments 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average); beyond, the least recently added-to is dropped [default: 4096]'
            cand --max-media-flows 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call''s media is not judged [default: 100000]'
            cand --max-sip-message 'Largest SIP message on TCP, in bytes; a longer body is skipped unread [default: 1048576]'
            cand --max-sip-header 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]'
            cand --max-calls 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]'
            cand --max-sdp-announcements 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]'
            cand --max-rtp-streams 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]'
            cand --max-rtp-streams-per-flow 'RTP streams (SSRCs) followed on one UDP flow [default: 16]'
            cand --max-stun-transactions 'STUN transactions kept [default: 100000]'
            cand --max-stun-tcp-connections 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]'
            cand --max-softphone-connections 'Softphone signalling connections followed [default: 10000]'
            cand --max-icmp-errors 'ICMP errors kept as evidence [default: 10000]'
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand --redact 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sipdiag;flow'= {
            cand -f 'Output format'
            cand --format 'Output format'
            cand --call-id 'Only the call with this Call-ID (repeatable)'
            cand --number 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)'
            cand --ip 'Only calls with a message from or to this address (repeatable)'
            cand --since 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture''s first day'
            cand --until 'Only calls that started at or before this time (as --since)'
            cand --xcc 'XCC''s address (ADDR or ADDR:PORT), as for analyze'
            cand --pbx 'The PBX''s address (ADDR or ADDR:PORT), as for analyze'
            cand --site 'Site profile (TOML): country_code, area_code, internal_length, outside_prefix, known_users, current_pattern, softphone_port, server_media_ports, client_media_ports'
            cand --country-code 'Country calling code, e.g. 49'
            cand --area-code 'Area code without the leading 0, e.g. 30'
            cand --internal-length 'Length of internal numbers, e.g. 3'
            cand --outside-prefix 'Outside-line prefix, e.g. 0'
            cand --known-user 'A number that belongs to an XPhone user (repeatable)'
            cand --current-pattern 'The XccDiversionPattern configured today, to build the suggestion on'
            cand --softphone-port 'TCP port of the softphone signalling [default: 2230]'
            cand --server-media-ports 'Server (XCC) media UDP range [default: 30000-33000]'
            cand --client-media-ports 'Client (softphone) media UDP range [default: 49152-65535]'
            cand --redact-key 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]'
            cand --max-tcp-connections 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]'
            cand --max-fragments 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average); beyond, the least recently added-to is dropped [default: 4096]'
            cand --max-media-flows 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call''s media is not judged [default: 100000]'
            cand --max-sip-message 'Largest SIP message on TCP, in bytes; a longer body is skipped unread [default: 1048576]'
            cand --max-sip-header 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]'
            cand --max-calls 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]'
            cand --max-sdp-announcements 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]'
            cand --max-rtp-streams 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]'
            cand --max-rtp-streams-per-flow 'RTP streams (SSRCs) followed on one UDP flow [default: 16]'
            cand --max-stun-transactions 'STUN transactions kept [default: 100000]'
            cand --max-stun-tcp-connections 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]'
            cand --max-softphone-connections 'Softphone signalling connections followed [default: 10000]'
            cand --max-icmp-errors 'ICMP errors kept as evidence [default: 10000]'
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand --redact 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sipdiag;extract'= {
            cand -o 'The pcapng file to write'
            cand --output 'The pcapng file to write'
            cand --call-id 'Only the call with this Call-ID (repeatable)'
            cand --number 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)'
            cand --ip 'Only calls with a message from or to this address (repeatable)'
            cand --since 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture''s first day'
            cand --until 'Only calls that started at or before this time (as --since)'
            cand --xcc 'XCC''s address (ADDR or ADDR:PORT), as for analyze (it decides which legs link)'
            cand --pbx 'The PBX''s address (ADDR or ADDR:PORT), as for analyze'
            cand --redact-key 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]'
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand --redact 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sipdiag;watch'= {
            cand -i 'Capture live from this network interface through libpcap (root or CAP_NET_RAW); needs a build with the cargo feature `live`. Stops at Ctrl-C, or as `--until-idle` says'
            cand --interface 'Capture live from this network interface through libpcap (root or CAP_NET_RAW); needs a build with the cargo feature `live`. Stops at Ctrl-C, or as `--until-idle` says'
            cand --follow 'A capture file still being written (`tcpdump -w`): read as it grows, and on into the next file of its rotated set (`tcpdump -C`/`-G`). Stops at Ctrl-C, or as `--until-idle` says'
            cand --until-idle 'With --follow: stop once the file has not grown for SECS seconds and no next file of its set has appeared; with -i: once no packet has come for SECS seconds. Without it, Ctrl-C stops the same way (the calls in progress are judged, the summary printed)'
            cand -f 'Output format'
            cand --format 'Output format'
            cand --fail-on 'Exit 1 when a finding at or above this severity is reported'
            cand --select 'Run only these rules (ids or slugs, comma-separated or repeated)'
            cand --ignore 'Skip these rules (ids or slugs)'
            cand --severity 'Override a rule''s severity, e.g. SIP001=error (repeatable)'
            cand --xcc 'XCC''s address (ADDR or ADDR:PORT); repeat for several trunks. Overrides inference (for `watch`, recommended: without it, XCC is known only once a call has shown it)'
            cand --pbx 'The PBX''s address (ADDR or ADDR:PORT). Overrides inference'
            cand --ipo 'An IP Office address (repeatable): its incoming calls are checked (IPO rules)'
            cand --ipo-config 'The IP Office configuration (TOML, as for `ipo-route`): the IPO rules replay its routing'
            cand --site 'Site profile (TOML): country_code, area_code, internal_length, outside_prefix, known_users, current_pattern, softphone_port, server_media_ports, client_media_ports'
            cand --country-code 'Country calling code, e.g. 49'
            cand --area-code 'Area code without the leading 0, e.g. 30'
            cand --internal-length 'Length of internal numbers, e.g. 3'
            cand --outside-prefix 'Outside-line prefix, e.g. 0'
            cand --known-user 'A number that belongs to an XPhone user (repeatable)'
            cand --current-pattern 'The XccDiversionPattern configured today, to build the suggestion on'
            cand --redact-key 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]'
            cand --max-tcp-connections 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]'
            cand --max-fragments 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average); beyond, the least recently added-to is dropped [default: 4096]'
            cand --max-media-flows 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call''s media is not judged [default: 100000]'
            cand --max-sip-message 'Largest SIP message on TCP, in bytes; a longer body is skipped unread [default: 1048576]'
            cand --max-sip-header 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]'
            cand --max-calls 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]'
            cand --max-sdp-announcements 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]'
            cand --max-rtp-streams 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]'
            cand --max-rtp-streams-per-flow 'RTP streams (SSRCs) followed on one UDP flow [default: 16]'
            cand --max-stun-transactions 'STUN transactions kept [default: 100000]'
            cand --max-stun-tcp-connections 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]'
            cand --max-softphone-connections 'Softphone signalling connections followed [default: 10000]'
            cand --max-icmp-errors 'ICMP errors kept as evidence [default: 10000]'
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand -v 'Also the healthy calls, and whole Call-IDs'
            cand --verbose 'Also the healthy calls, and whole Call-IDs'
            cand --redact 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sipdiag;rules'= {
            cand -f 'Output format'
            cand --format 'Output format'
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sipdiag;explain'= {
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sipdiag;pattern'= {
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand test 'Apply a rewrite to header values / numbers, or to every Diversion/History-Info number in captures, and show before → after'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sipdiag;pattern;test'= {
            cand --rewrite 'The rewrite, as ''REGEX=>REPLACEMENT'' (e.g. ''^00(\d+)$=>+$1''); repeat to try several in order'
            cand --value 'A number or a whole header value (e.g. ''<sip:004930123@pbx>;reason=unconditional'')'
            cand --site 'Site profile (TOML): country_code, area_code, internal_length, outside_prefix, known_users, current_pattern, softphone_port, server_media_ports, client_media_ports'
            cand --country-code 'Country calling code, e.g. 49'
            cand --area-code 'Area code without the leading 0, e.g. 30'
            cand --internal-length 'Length of internal numbers, e.g. 3'
            cand --outside-prefix 'Outside-line prefix, e.g. 0'
            cand --known-user 'A number that belongs to an XPhone user (repeatable)'
            cand --current-pattern 'The XccDiversionPattern configured today, to build the suggestion on'
            cand -f 'Output format'
            cand --format 'Output format'
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sipdiag;pattern;help'= {
            cand test 'Apply a rewrite to header values / numbers, or to every Diversion/History-Info number in captures, and show before → after'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sipdiag;pattern;help;test'= {
        }
        &'sipdiag;pattern;help;help'= {
        }
        &'sipdiag;ipo-route'= {
            cand --config 'The IP Office configuration (TOML; see the README, "IP Office incoming call routing")'
            cand --request-uri 'Request-URI of the INVITE'
            cand --to 'To URI [default: the Request-URI]'
            cand --from 'From URI (the caller''s CLI)'
            cand --source 'Where the INVITE came from'
            cand --via 'Host of the top Via [default: the source address]'
            cand --transport 'Transport the INVITE arrived on'
            cand --port 'IP Office port the INVITE was sent to [default: 5060, 5061 for TLS]'
            cand --at 'When the call arrived (RFC 3339) [default: now]'
            cand --busy 'A user or group (name or extension) that is busy (repeatable)'
            cand -f 'Output format: table, JSON (schema_version 1) or markdown'
            cand --format 'Output format: table, JSON (schema_version 1) or markdown'
            cand --redact-key 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]'
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand --dry-run 'Replay one call described by the flags below instead of a capture'
            cand --redact 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sipdiag;completions'= {
            cand --color 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sipdiag;help'= {
            cand messages 'List every SIP message with its Wireshark frame number'
            cand calls 'Group SIP messages into calls by Call-ID'
            cand analyze 'Diagnose failed Follow-Me and softphone calls: findings with frames and fixes'
            cand media 'STUN transactions and RTP/RTCP streams'
            cand flow 'Draw calls as a ladder: one column per host, both Follow-Me legs in one time order, the frames that findings cite marked'
            cand extract 'Cut the selected call out of the captures as pcapng: its SIP and its linked Follow-Me leg''s, with their media (RTP/RTCP/STUN to and from the addresses their SDP announced, while the call lasts)'
            cand watch 'Judge each call as soon as it has ended, while the capture is read (or still being written, with --follow): its findings printed then, memory held only for the calls in progress; the rules that compare calls report at the end. The media rules need `analyze`'
            cand rules 'List the diagnosis rules'
            cand explain 'Print the documentation of one rule (id or slug)'
            cand pattern 'Work with XccDiversionPattern rewrites'
            cand ipo-route 'Replay Avaya IP Office''s routing of incoming SIP calls from its configuration'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sipdiag;help;messages'= {
        }
        &'sipdiag;help;calls'= {
        }
        &'sipdiag;help;analyze'= {
        }
        &'sipdiag;help;media'= {
        }
        &'sipdiag;help;flow'= {
        }
        &'sipdiag;help;extract'= {
        }
        &'sipdiag;help;watch'= {
        }
        &'sipdiag;help;rules'= {
        }
        &'sipdiag;help;explain'= {
        }
        &'sipdiag;help;pattern'= {
            cand test 'Apply a rewrite to header values / numbers, or to every Diversion/History-Info number in captures, and show before → after'
        }
        &'sipdiag;help;pattern;test'= {
        }
        &'sipdiag;help;ipo-route'= {
        }
        &'sipdiag;help;completions'= {
        }
        &'sipdiag;help;help'= {
        }
    ]
    $completions[$command]
}
