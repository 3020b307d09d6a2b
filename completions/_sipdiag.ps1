
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sipdiag' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sipdiag'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sipdiag' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('messages', 'messages', [CompletionResultType]::ParameterValue, 'List every SIP message with its Wireshark frame number')
            [CompletionResult]::new('calls', 'calls', [CompletionResultType]::ParameterValue, 'Group SIP messages into calls by Call-ID')
            [CompletionResult]::new('analyze', 'analyze', [CompletionResultType]::ParameterValue, 'Diagnose failed Follow-Me and softphone calls: findings with frames and fixes')
            [CompletionResult]::new('media', 'media', [CompletionResultType]::ParameterValue, 'STUN transactions and RTP/RTCP streams')
            [CompletionResult]::new('flow', 'flow', [CompletionResultType]::ParameterValue, 'Draw calls as a ladder: one column per host, both Follow-Me legs in one time order, the frames that findings cite marked')
            [CompletionResult]::new('extract', 'extract', [CompletionResultType]::ParameterValue, 'Cut the selected call out of the captures as pcapng: its SIP and its linked Follow-Me leg''s, with their media (RTP/RTCP/STUN to and from the addresses their SDP announced, while the call lasts)')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Judge each call as soon as it has ended, while the capture is read (or still being written, with --follow): its findings, its media''s included, printed then, memory held only for the calls in progress; the rules that compare calls and the softphone''s ICE rules report at the end')
            [CompletionResult]::new('rules', 'rules', [CompletionResultType]::ParameterValue, 'List the diagnosis rules')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Print the documentation of one rule (id or slug)')
            [CompletionResult]::new('pattern', 'pattern', [CompletionResultType]::ParameterValue, 'Work with XccDiversionPattern rewrites')
            [CompletionResult]::new('ipo-route', 'ipo-route', [CompletionResultType]::ParameterValue, 'Replay Avaya IP Office''s routing of incoming SIP calls from its configuration')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sipdiag;messages' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--time', '--time', [CompletionResultType]::ParameterName, 'The Time column of `messages` (table): absolute (RFC 3339, UTC), relative (seconds since the first message listed) or delta (since the previous one), as in Wireshark')
            [CompletionResult]::new('--call-id', '--call-id', [CompletionResultType]::ParameterName, 'Only the call with this Call-ID (repeatable)')
            [CompletionResult]::new('--number', '--number', [CompletionResultType]::ParameterName, 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)')
            [CompletionResult]::new('--ip', '--ip', [CompletionResultType]::ParameterName, 'Only calls with a message from or to this address (repeatable)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture''s first day')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only calls that started at or before this time (as --since)')
            [CompletionResult]::new('--redact-key', '--redact-key', [CompletionResultType]::ParameterName, 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]')
            [CompletionResult]::new('--max-tcp-connections', '--max-tcp-connections', [CompletionResultType]::ParameterName, 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]')
            [CompletionResult]::new('--max-fragments', '--max-fragments', [CompletionResultType]::ParameterName, 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and SCTP messages split over chunks; beyond, the least recently added-to is dropped [default: 4096]')
            [CompletionResult]::new('--max-media-flows', '--max-media-flows', [CompletionResultType]::ParameterName, 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call''s media is not judged [default: 100000]')
            [CompletionResult]::new('--max-sip-message', '--max-sip-message', [CompletionResultType]::ParameterName, 'Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a longer message is dropped) [default: 1048576]')
            [CompletionResult]::new('--max-sip-header', '--max-sip-header', [CompletionResultType]::ParameterName, 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]')
            [CompletionResult]::new('--max-calls', '--max-calls', [CompletionResultType]::ParameterName, 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]')
            [CompletionResult]::new('--max-messages-per-call', '--max-messages-per-call', [CompletionResultType]::ParameterName, 'Messages kept in one call''s message list (a registration refreshed for days, a flood under one Call-ID); beyond, the list keeps its first messages and the latest, and the call''s state still follows every message [default: 10000]')
            [CompletionResult]::new('--max-invites-per-call', '--max-invites-per-call', [CompletionResultType]::ParameterName, 'INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the call keeps its first and its latest, and responses to those left out are not matched [default: 256]')
            [CompletionResult]::new('--max-sdp-announcements', '--max-sdp-announcements', [CompletionResultType]::ParameterName, 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]')
            [CompletionResult]::new('--max-rtp-streams', '--max-rtp-streams', [CompletionResultType]::ParameterName, 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]')
            [CompletionResult]::new('--max-rtp-streams-per-flow', '--max-rtp-streams-per-flow', [CompletionResultType]::ParameterName, 'RTP streams (SSRCs) followed on one UDP flow [default: 16]')
            [CompletionResult]::new('--max-stun-transactions', '--max-stun-transactions', [CompletionResultType]::ParameterName, 'STUN transactions kept [default: 100000]')
            [CompletionResult]::new('--max-stun-tcp-connections', '--max-stun-tcp-connections', [CompletionResultType]::ParameterName, 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]')
            [CompletionResult]::new('--max-softphone-connections', '--max-softphone-connections', [CompletionResultType]::ParameterName, 'Softphone signalling connections followed [default: 10000]')
            [CompletionResult]::new('--max-icmp-errors', '--max-icmp-errors', [CompletionResultType]::ParameterName, 'ICMP errors kept as evidence [default: 10000]')
            [CompletionResult]::new('--max-address-pairs', '--max-address-pairs', [CompletionResultType]::ParameterName, 'Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs between further pairs are not counted [default: 65536]')
            [CompletionResult]::new('--max-diverting-numbers', '--max-diverting-numbers', [CompletionResultType]::ParameterName, 'Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond, the first in capture order are kept [default: 20000]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Whole Call-IDs in the `calls` table (shortened to 24 characters otherwise)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Whole Call-IDs in the `calls` table (shortened to 24 characters otherwise)')
            [CompletionResult]::new('--redact', '--redact', [CompletionResultType]::ParameterName, 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sipdiag;calls' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--time', '--time', [CompletionResultType]::ParameterName, 'The Time column of `messages` (table): absolute (RFC 3339, UTC), relative (seconds since the first message listed) or delta (since the previous one), as in Wireshark')
            [CompletionResult]::new('--call-id', '--call-id', [CompletionResultType]::ParameterName, 'Only the call with this Call-ID (repeatable)')
            [CompletionResult]::new('--number', '--number', [CompletionResultType]::ParameterName, 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)')
            [CompletionResult]::new('--ip', '--ip', [CompletionResultType]::ParameterName, 'Only calls with a message from or to this address (repeatable)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture''s first day')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only calls that started at or before this time (as --since)')
            [CompletionResult]::new('--redact-key', '--redact-key', [CompletionResultType]::ParameterName, 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]')
            [CompletionResult]::new('--max-tcp-connections', '--max-tcp-connections', [CompletionResultType]::ParameterName, 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]')
            [CompletionResult]::new('--max-fragments', '--max-fragments', [CompletionResultType]::ParameterName, 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and SCTP messages split over chunks; beyond, the least recently added-to is dropped [default: 4096]')
            [CompletionResult]::new('--max-media-flows', '--max-media-flows', [CompletionResultType]::ParameterName, 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call''s media is not judged [default: 100000]')
            [CompletionResult]::new('--max-sip-message', '--max-sip-message', [CompletionResultType]::ParameterName, 'Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a longer message is dropped) [default: 1048576]')
            [CompletionResult]::new('--max-sip-header', '--max-sip-header', [CompletionResultType]::ParameterName, 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]')
            [CompletionResult]::new('--max-calls', '--max-calls', [CompletionResultType]::ParameterName, 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]')
            [CompletionResult]::new('--max-messages-per-call', '--max-messages-per-call', [CompletionResultType]::ParameterName, 'Messages kept in one call''s message list (a registration refreshed for days, a flood under one Call-ID); beyond, the list keeps its first messages and the latest, and the call''s state still follows every message [default: 10000]')
            [CompletionResult]::new('--max-invites-per-call', '--max-invites-per-call', [CompletionResultType]::ParameterName, 'INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the call keeps its first and its latest, and responses to those left out are not matched [default: 256]')
            [CompletionResult]::new('--max-sdp-announcements', '--max-sdp-announcements', [CompletionResultType]::ParameterName, 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]')
            [CompletionResult]::new('--max-rtp-streams', '--max-rtp-streams', [CompletionResultType]::ParameterName, 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]')
            [CompletionResult]::new('--max-rtp-streams-per-flow', '--max-rtp-streams-per-flow', [CompletionResultType]::ParameterName, 'RTP streams (SSRCs) followed on one UDP flow [default: 16]')
            [CompletionResult]::new('--max-stun-transactions', '--max-stun-transactions', [CompletionResultType]::ParameterName, 'STUN transactions kept [default: 100000]')
            [CompletionResult]::new('--max-stun-tcp-connections', '--max-stun-tcp-connections', [CompletionResultType]::ParameterName, 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]')
            [CompletionResult]::new('--max-softphone-connections', '--max-softphone-connections', [CompletionResultType]::ParameterName, 'Softphone signalling connections followed [default: 10000]')
            [CompletionResult]::new('--max-icmp-errors', '--max-icmp-errors', [CompletionResultType]::ParameterName, 'ICMP errors kept as evidence [default: 10000]')
            [CompletionResult]::new('--max-address-pairs', '--max-address-pairs', [CompletionResultType]::ParameterName, 'Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs between further pairs are not counted [default: 65536]')
            [CompletionResult]::new('--max-diverting-numbers', '--max-diverting-numbers', [CompletionResultType]::ParameterName, 'Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond, the first in capture order are kept [default: 20000]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Whole Call-IDs in the `calls` table (shortened to 24 characters otherwise)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Whole Call-IDs in the `calls` table (shortened to 24 characters otherwise)')
            [CompletionResult]::new('--redact', '--redact', [CompletionResultType]::ParameterName, 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sipdiag;analyze' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of standard output')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Exit 1 when a finding at or above this severity is reported')
            [CompletionResult]::new('--select', '--select', [CompletionResultType]::ParameterName, 'Run only these rules (ids or slugs, comma-separated or repeated)')
            [CompletionResult]::new('--ignore', '--ignore', [CompletionResultType]::ParameterName, 'Skip these rules (ids or slugs)')
            [CompletionResult]::new('--severity', '--severity', [CompletionResultType]::ParameterName, 'Override a rule''s severity, e.g. SIP001=error (repeatable)')
            [CompletionResult]::new('--xcc', '--xcc', [CompletionResultType]::ParameterName, 'XCC''s address (ADDR or ADDR:PORT); repeat for several trunks. Overrides inference (for `watch`, recommended: without it, XCC is known only once a call has shown it)')
            [CompletionResult]::new('--pbx', '--pbx', [CompletionResultType]::ParameterName, 'The PBX''s address (ADDR or ADDR:PORT). Overrides inference')
            [CompletionResult]::new('--ipo', '--ipo', [CompletionResultType]::ParameterName, 'An IP Office address (repeatable): its incoming calls are checked (IPO rules)')
            [CompletionResult]::new('--ipo-config', '--ipo-config', [CompletionResultType]::ParameterName, 'The IP Office configuration (TOML, as for `ipo-route`): the IPO rules replay its routing')
            [CompletionResult]::new('--annotate', '--annotate', [CompletionResultType]::ParameterName, 'Also write the capture to this file as pcapng, with a packet comment `sipdiag ID slug: title` on every frame a finding cites (Wireshark: frame.comment). Takes one capture: it is read again once the findings are known (standard input or a named pipe from a copy kept in the temporary directory)')
            [CompletionResult]::new('--call-id', '--call-id', [CompletionResultType]::ParameterName, 'Only the call with this Call-ID (repeatable)')
            [CompletionResult]::new('--number', '--number', [CompletionResultType]::ParameterName, 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)')
            [CompletionResult]::new('--ip', '--ip', [CompletionResultType]::ParameterName, 'Only calls with a message from or to this address (repeatable)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture''s first day')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only calls that started at or before this time (as --since)')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Site profile (TOML): country_code, area_code, internal_length, outside_prefix, known_users, current_pattern, softphone_port, server_media_ports, client_media_ports')
            [CompletionResult]::new('--country-code', '--country-code', [CompletionResultType]::ParameterName, 'Country calling code, e.g. 49')
            [CompletionResult]::new('--area-code', '--area-code', [CompletionResultType]::ParameterName, 'Area code without the leading 0, e.g. 30')
            [CompletionResult]::new('--internal-length', '--internal-length', [CompletionResultType]::ParameterName, 'Length of internal numbers, e.g. 3')
            [CompletionResult]::new('--outside-prefix', '--outside-prefix', [CompletionResultType]::ParameterName, 'Outside-line prefix, e.g. 0')
            [CompletionResult]::new('--known-user', '--known-user', [CompletionResultType]::ParameterName, 'A number that belongs to an XPhone user (repeatable)')
            [CompletionResult]::new('--current-pattern', '--current-pattern', [CompletionResultType]::ParameterName, 'The XccDiversionPattern configured today, to build the suggestion on')
            [CompletionResult]::new('--softphone-port', '--softphone-port', [CompletionResultType]::ParameterName, 'TCP port of the softphone signalling [default: 2230]')
            [CompletionResult]::new('--server-media-ports', '--server-media-ports', [CompletionResultType]::ParameterName, 'Server (XCC) media UDP range [default: 30000-33000]')
            [CompletionResult]::new('--client-media-ports', '--client-media-ports', [CompletionResultType]::ParameterName, 'Client (softphone) media UDP range [default: 49152-65535]')
            [CompletionResult]::new('--redact-key', '--redact-key', [CompletionResultType]::ParameterName, 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]')
            [CompletionResult]::new('--max-tcp-connections', '--max-tcp-connections', [CompletionResultType]::ParameterName, 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]')
            [CompletionResult]::new('--max-fragments', '--max-fragments', [CompletionResultType]::ParameterName, 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and SCTP messages split over chunks; beyond, the least recently added-to is dropped [default: 4096]')
            [CompletionResult]::new('--max-media-flows', '--max-media-flows', [CompletionResultType]::ParameterName, 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call''s media is not judged [default: 100000]')
            [CompletionResult]::new('--max-sip-message', '--max-sip-message', [CompletionResultType]::ParameterName, 'Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a longer message is dropped) [default: 1048576]')
            [CompletionResult]::new('--max-sip-header', '--max-sip-header', [CompletionResultType]::ParameterName, 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]')
            [CompletionResult]::new('--max-calls', '--max-calls', [CompletionResultType]::ParameterName, 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]')
            [CompletionResult]::new('--max-messages-per-call', '--max-messages-per-call', [CompletionResultType]::ParameterName, 'Messages kept in one call''s message list (a registration refreshed for days, a flood under one Call-ID); beyond, the list keeps its first messages and the latest, and the call''s state still follows every message [default: 10000]')
            [CompletionResult]::new('--max-invites-per-call', '--max-invites-per-call', [CompletionResultType]::ParameterName, 'INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the call keeps its first and its latest, and responses to those left out are not matched [default: 256]')
            [CompletionResult]::new('--max-sdp-announcements', '--max-sdp-announcements', [CompletionResultType]::ParameterName, 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]')
            [CompletionResult]::new('--max-rtp-streams', '--max-rtp-streams', [CompletionResultType]::ParameterName, 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]')
            [CompletionResult]::new('--max-rtp-streams-per-flow', '--max-rtp-streams-per-flow', [CompletionResultType]::ParameterName, 'RTP streams (SSRCs) followed on one UDP flow [default: 16]')
            [CompletionResult]::new('--max-stun-transactions', '--max-stun-transactions', [CompletionResultType]::ParameterName, 'STUN transactions kept [default: 100000]')
            [CompletionResult]::new('--max-stun-tcp-connections', '--max-stun-tcp-connections', [CompletionResultType]::ParameterName, 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]')
            [CompletionResult]::new('--max-softphone-connections', '--max-softphone-connections', [CompletionResultType]::ParameterName, 'Softphone signalling connections followed [default: 10000]')
            [CompletionResult]::new('--max-icmp-errors', '--max-icmp-errors', [CompletionResultType]::ParameterName, 'ICMP errors kept as evidence [default: 10000]')
            [CompletionResult]::new('--max-address-pairs', '--max-address-pairs', [CompletionResultType]::ParameterName, 'Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs between further pairs are not counted [default: 65536]')
            [CompletionResult]::new('--max-diverting-numbers', '--max-diverting-numbers', [CompletionResultType]::ParameterName, 'Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond, the first in capture order are kept [default: 20000]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--flow', '--flow', [CompletionResultType]::ParameterName, 'After the report (table or markdown), draw the ladder of each failed call with its linked leg (as `sipdiag flow`)')
            [CompletionResult]::new('--each', '--each', [CompletionResultType]::ParameterName, 'Analyse each capture on its own, several at a time (a directory: every capture file in it and below): one report per file, then a summary table; the exit code is the worst file''s')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Every finding of each group, every healthy call and whole Call-IDs (JSON always has them all)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Every finding of each group, every healthy call and whole Call-IDs (JSON always has them all)')
            [CompletionResult]::new('--in-memory', '--in-memory', [CompletionResultType]::ParameterName, 'Hold every call until the end and read the capture once, instead of judging each call as it ends (and reading the capture again when its end contradicts what its first calls were judged with): memory then grows with the capture. The report is the same. Several files are read merged, as a stream too; --ipo-config holds every call only when no IP Office address is known before (none in its file, no --ipo); standard input and a named pipe are kept for a second reading (copied to the temporary directory, or read where they lie when redirected from a file; held whole when neither can be, or when among several files)')
            [CompletionResult]::new('--redact', '--redact', [CompletionResultType]::ParameterName, 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sipdiag;media' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--call-id', '--call-id', [CompletionResultType]::ParameterName, 'Only the call with this Call-ID (repeatable)')
            [CompletionResult]::new('--number', '--number', [CompletionResultType]::ParameterName, 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)')
            [CompletionResult]::new('--ip', '--ip', [CompletionResultType]::ParameterName, 'Only calls with a message from or to this address (repeatable)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture''s first day')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only calls that started at or before this time (as --since)')
            [CompletionResult]::new('--softphone-port', '--softphone-port', [CompletionResultType]::ParameterName, 'TCP port of the softphone signalling [default: 2230]')
            [CompletionResult]::new('--server-media-ports', '--server-media-ports', [CompletionResultType]::ParameterName, 'Server (XCC) media UDP range [default: 30000-33000]')
            [CompletionResult]::new('--client-media-ports', '--client-media-ports', [CompletionResultType]::ParameterName, 'Client (softphone) media UDP range [default: 49152-65535]')
            [CompletionResult]::new('--redact-key', '--redact-key', [CompletionResultType]::ParameterName, 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]')
            [CompletionResult]::new('--max-tcp-connections', '--max-tcp-connections', [CompletionResultType]::ParameterName, 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]')
            [CompletionResult]::new('--max-fragments', '--max-fragments', [CompletionResultType]::ParameterName, 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and SCTP messages split over chunks; beyond, the least recently added-to is dropped [default: 4096]')
            [CompletionResult]::new('--max-media-flows', '--max-media-flows', [CompletionResultType]::ParameterName, 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call''s media is not judged [default: 100000]')
            [CompletionResult]::new('--max-sip-message', '--max-sip-message', [CompletionResultType]::ParameterName, 'Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a longer message is dropped) [default: 1048576]')
            [CompletionResult]::new('--max-sip-header', '--max-sip-header', [CompletionResultType]::ParameterName, 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]')
            [CompletionResult]::new('--max-calls', '--max-calls', [CompletionResultType]::ParameterName, 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]')
            [CompletionResult]::new('--max-messages-per-call', '--max-messages-per-call', [CompletionResultType]::ParameterName, 'Messages kept in one call''s message list (a registration refreshed for days, a flood under one Call-ID); beyond, the list keeps its first messages and the latest, and the call''s state still follows every message [default: 10000]')
            [CompletionResult]::new('--max-invites-per-call', '--max-invites-per-call', [CompletionResultType]::ParameterName, 'INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the call keeps its first and its latest, and responses to those left out are not matched [default: 256]')
            [CompletionResult]::new('--max-sdp-announcements', '--max-sdp-announcements', [CompletionResultType]::ParameterName, 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]')
            [CompletionResult]::new('--max-rtp-streams', '--max-rtp-streams', [CompletionResultType]::ParameterName, 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]')
            [CompletionResult]::new('--max-rtp-streams-per-flow', '--max-rtp-streams-per-flow', [CompletionResultType]::ParameterName, 'RTP streams (SSRCs) followed on one UDP flow [default: 16]')
            [CompletionResult]::new('--max-stun-transactions', '--max-stun-transactions', [CompletionResultType]::ParameterName, 'STUN transactions kept [default: 100000]')
            [CompletionResult]::new('--max-stun-tcp-connections', '--max-stun-tcp-connections', [CompletionResultType]::ParameterName, 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]')
            [CompletionResult]::new('--max-softphone-connections', '--max-softphone-connections', [CompletionResultType]::ParameterName, 'Softphone signalling connections followed [default: 10000]')
            [CompletionResult]::new('--max-icmp-errors', '--max-icmp-errors', [CompletionResultType]::ParameterName, 'ICMP errors kept as evidence [default: 10000]')
            [CompletionResult]::new('--max-address-pairs', '--max-address-pairs', [CompletionResultType]::ParameterName, 'Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs between further pairs are not counted [default: 65536]')
            [CompletionResult]::new('--max-diverting-numbers', '--max-diverting-numbers', [CompletionResultType]::ParameterName, 'Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond, the first in capture order are kept [default: 20000]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--redact', '--redact', [CompletionResultType]::ParameterName, 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sipdiag;flow' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--call-id', '--call-id', [CompletionResultType]::ParameterName, 'Only the call with this Call-ID (repeatable)')
            [CompletionResult]::new('--number', '--number', [CompletionResultType]::ParameterName, 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)')
            [CompletionResult]::new('--ip', '--ip', [CompletionResultType]::ParameterName, 'Only calls with a message from or to this address (repeatable)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture''s first day')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only calls that started at or before this time (as --since)')
            [CompletionResult]::new('--xcc', '--xcc', [CompletionResultType]::ParameterName, 'XCC''s address (ADDR or ADDR:PORT), as for analyze')
            [CompletionResult]::new('--pbx', '--pbx', [CompletionResultType]::ParameterName, 'The PBX''s address (ADDR or ADDR:PORT), as for analyze')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Site profile (TOML): country_code, area_code, internal_length, outside_prefix, known_users, current_pattern, softphone_port, server_media_ports, client_media_ports')
            [CompletionResult]::new('--country-code', '--country-code', [CompletionResultType]::ParameterName, 'Country calling code, e.g. 49')
            [CompletionResult]::new('--area-code', '--area-code', [CompletionResultType]::ParameterName, 'Area code without the leading 0, e.g. 30')
            [CompletionResult]::new('--internal-length', '--internal-length', [CompletionResultType]::ParameterName, 'Length of internal numbers, e.g. 3')
            [CompletionResult]::new('--outside-prefix', '--outside-prefix', [CompletionResultType]::ParameterName, 'Outside-line prefix, e.g. 0')
            [CompletionResult]::new('--known-user', '--known-user', [CompletionResultType]::ParameterName, 'A number that belongs to an XPhone user (repeatable)')
            [CompletionResult]::new('--current-pattern', '--current-pattern', [CompletionResultType]::ParameterName, 'The XccDiversionPattern configured today, to build the suggestion on')
            [CompletionResult]::new('--softphone-port', '--softphone-port', [CompletionResultType]::ParameterName, 'TCP port of the softphone signalling [default: 2230]')
            [CompletionResult]::new('--server-media-ports', '--server-media-ports', [CompletionResultType]::ParameterName, 'Server (XCC) media UDP range [default: 30000-33000]')
            [CompletionResult]::new('--client-media-ports', '--client-media-ports', [CompletionResultType]::ParameterName, 'Client (softphone) media UDP range [default: 49152-65535]')
            [CompletionResult]::new('--redact-key', '--redact-key', [CompletionResultType]::ParameterName, 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]')
            [CompletionResult]::new('--max-tcp-connections', '--max-tcp-connections', [CompletionResultType]::ParameterName, 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]')
            [CompletionResult]::new('--max-fragments', '--max-fragments', [CompletionResultType]::ParameterName, 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and SCTP messages split over chunks; beyond, the least recently added-to is dropped [default: 4096]')
            [CompletionResult]::new('--max-media-flows', '--max-media-flows', [CompletionResultType]::ParameterName, 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call''s media is not judged [default: 100000]')
            [CompletionResult]::new('--max-sip-message', '--max-sip-message', [CompletionResultType]::ParameterName, 'Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a longer message is dropped) [default: 1048576]')
            [CompletionResult]::new('--max-sip-header', '--max-sip-header', [CompletionResultType]::ParameterName, 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]')
            [CompletionResult]::new('--max-calls', '--max-calls', [CompletionResultType]::ParameterName, 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]')
            [CompletionResult]::new('--max-messages-per-call', '--max-messages-per-call', [CompletionResultType]::ParameterName, 'Messages kept in one call''s message list (a registration refreshed for days, a flood under one Call-ID); beyond, the list keeps its first messages and the latest, and the call''s state still follows every message [default: 10000]')
            [CompletionResult]::new('--max-invites-per-call', '--max-invites-per-call', [CompletionResultType]::ParameterName, 'INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the call keeps its first and its latest, and responses to those left out are not matched [default: 256]')
            [CompletionResult]::new('--max-sdp-announcements', '--max-sdp-announcements', [CompletionResultType]::ParameterName, 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]')
            [CompletionResult]::new('--max-rtp-streams', '--max-rtp-streams', [CompletionResultType]::ParameterName, 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]')
            [CompletionResult]::new('--max-rtp-streams-per-flow', '--max-rtp-streams-per-flow', [CompletionResultType]::ParameterName, 'RTP streams (SSRCs) followed on one UDP flow [default: 16]')
            [CompletionResult]::new('--max-stun-transactions', '--max-stun-transactions', [CompletionResultType]::ParameterName, 'STUN transactions kept [default: 100000]')
            [CompletionResult]::new('--max-stun-tcp-connections', '--max-stun-tcp-connections', [CompletionResultType]::ParameterName, 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]')
            [CompletionResult]::new('--max-softphone-connections', '--max-softphone-connections', [CompletionResultType]::ParameterName, 'Softphone signalling connections followed [default: 10000]')
            [CompletionResult]::new('--max-icmp-errors', '--max-icmp-errors', [CompletionResultType]::ParameterName, 'ICMP errors kept as evidence [default: 10000]')
            [CompletionResult]::new('--max-address-pairs', '--max-address-pairs', [CompletionResultType]::ParameterName, 'Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs between further pairs are not counted [default: 65536]')
            [CompletionResult]::new('--max-diverting-numbers', '--max-diverting-numbers', [CompletionResultType]::ParameterName, 'Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond, the first in capture order are kept [default: 20000]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--redact', '--redact', [CompletionResultType]::ParameterName, 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`')
            [CompletionResult]::new('--in-memory', '--in-memory', [CompletionResultType]::ParameterName, 'Hold every call until the end and read the file once, instead of judging each call as it ends and reading the file again for the messages of the calls drawn: memory then grows with the capture. The ladder is the same. Several files are read merged, as a stream too; standard input and a named pipe are kept for the second reading (copied to the temporary directory, or read where they lie when redirected from a file; held whole when neither can be, or when among several files)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sipdiag;extract' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'The pcapng file to write')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'The pcapng file to write')
            [CompletionResult]::new('--call-id', '--call-id', [CompletionResultType]::ParameterName, 'Only the call with this Call-ID (repeatable)')
            [CompletionResult]::new('--number', '--number', [CompletionResultType]::ParameterName, 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)')
            [CompletionResult]::new('--ip', '--ip', [CompletionResultType]::ParameterName, 'Only calls with a message from or to this address (repeatable)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture''s first day')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only calls that started at or before this time (as --since)')
            [CompletionResult]::new('--xcc', '--xcc', [CompletionResultType]::ParameterName, 'XCC''s address (ADDR or ADDR:PORT), as for analyze (it decides which legs link)')
            [CompletionResult]::new('--pbx', '--pbx', [CompletionResultType]::ParameterName, 'The PBX''s address (ADDR or ADDR:PORT), as for analyze')
            [CompletionResult]::new('--redact-key', '--redact-key', [CompletionResultType]::ParameterName, 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--redact', '--redact', [CompletionResultType]::ParameterName, 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`')
            [CompletionResult]::new('--in-memory', '--in-memory', [CompletionResultType]::ParameterName, 'Hold every call of the first reading and select from them, instead of finding the selected calls as analyze does, as a stream, and then holding only those: memory then grows with the capture. The extract is the same. Several files always hold every call')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sipdiag;watch' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Capture live from this network interface through libpcap (root or CAP_NET_RAW); needs a build with the cargo feature `live`. Stops at Ctrl-C, or as `--until-idle` says')
            [CompletionResult]::new('--interface', '--interface', [CompletionResultType]::ParameterName, 'Capture live from this network interface through libpcap (root or CAP_NET_RAW); needs a build with the cargo feature `live`. Stops at Ctrl-C, or as `--until-idle` says')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'A capture file still being written (`tcpdump -w`): read as it grows, and on into the next file of its rotated set (`tcpdump -C`/`-G`). Stops at Ctrl-C, or as `--until-idle` says')
            [CompletionResult]::new('--until-idle', '--until-idle', [CompletionResultType]::ParameterName, 'With --follow: stop once the file has not grown for SECS seconds and no next file of its set has appeared; with -i: once no packet has come for SECS seconds. Without it, Ctrl-C stops the same way (the calls in progress are judged, the summary printed)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Exit 1 when a finding at or above this severity is reported')
            [CompletionResult]::new('--select', '--select', [CompletionResultType]::ParameterName, 'Run only these rules (ids or slugs, comma-separated or repeated)')
            [CompletionResult]::new('--ignore', '--ignore', [CompletionResultType]::ParameterName, 'Skip these rules (ids or slugs)')
            [CompletionResult]::new('--severity', '--severity', [CompletionResultType]::ParameterName, 'Override a rule''s severity, e.g. SIP001=error (repeatable)')
            [CompletionResult]::new('--xcc', '--xcc', [CompletionResultType]::ParameterName, 'XCC''s address (ADDR or ADDR:PORT); repeat for several trunks. Overrides inference (for `watch`, recommended: without it, XCC is known only once a call has shown it)')
            [CompletionResult]::new('--pbx', '--pbx', [CompletionResultType]::ParameterName, 'The PBX''s address (ADDR or ADDR:PORT). Overrides inference')
            [CompletionResult]::new('--ipo', '--ipo', [CompletionResultType]::ParameterName, 'An IP Office address (repeatable): its incoming calls are checked (IPO rules)')
            [CompletionResult]::new('--ipo-config', '--ipo-config', [CompletionResultType]::ParameterName, 'The IP Office configuration (TOML, as for `ipo-route`): the IPO rules replay its routing')
            [CompletionResult]::new('--softphone-port', '--softphone-port', [CompletionResultType]::ParameterName, 'TCP port of the softphone signalling, which the watch notes (it judges SIP calls only) [default: 2230]')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Site profile (TOML): country_code, area_code, internal_length, outside_prefix, known_users, current_pattern, softphone_port, server_media_ports, client_media_ports')
            [CompletionResult]::new('--country-code', '--country-code', [CompletionResultType]::ParameterName, 'Country calling code, e.g. 49')
            [CompletionResult]::new('--area-code', '--area-code', [CompletionResultType]::ParameterName, 'Area code without the leading 0, e.g. 30')
            [CompletionResult]::new('--internal-length', '--internal-length', [CompletionResultType]::ParameterName, 'Length of internal numbers, e.g. 3')
            [CompletionResult]::new('--outside-prefix', '--outside-prefix', [CompletionResultType]::ParameterName, 'Outside-line prefix, e.g. 0')
            [CompletionResult]::new('--known-user', '--known-user', [CompletionResultType]::ParameterName, 'A number that belongs to an XPhone user (repeatable)')
            [CompletionResult]::new('--current-pattern', '--current-pattern', [CompletionResultType]::ParameterName, 'The XccDiversionPattern configured today, to build the suggestion on')
            [CompletionResult]::new('--redact-key', '--redact-key', [CompletionResultType]::ParameterName, 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]')
            [CompletionResult]::new('--max-tcp-connections', '--max-tcp-connections', [CompletionResultType]::ParameterName, 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]')
            [CompletionResult]::new('--max-fragments', '--max-fragments', [CompletionResultType]::ParameterName, 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and SCTP messages split over chunks; beyond, the least recently added-to is dropped [default: 4096]')
            [CompletionResult]::new('--max-media-flows', '--max-media-flows', [CompletionResultType]::ParameterName, 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call''s media is not judged [default: 100000]')
            [CompletionResult]::new('--max-sip-message', '--max-sip-message', [CompletionResultType]::ParameterName, 'Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a longer message is dropped) [default: 1048576]')
            [CompletionResult]::new('--max-sip-header', '--max-sip-header', [CompletionResultType]::ParameterName, 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]')
            [CompletionResult]::new('--max-calls', '--max-calls', [CompletionResultType]::ParameterName, 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]')
            [CompletionResult]::new('--max-messages-per-call', '--max-messages-per-call', [CompletionResultType]::ParameterName, 'Messages kept in one call''s message list (a registration refreshed for days, a flood under one Call-ID); beyond, the list keeps its first messages and the latest, and the call''s state still follows every message [default: 10000]')
            [CompletionResult]::new('--max-invites-per-call', '--max-invites-per-call', [CompletionResultType]::ParameterName, 'INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the call keeps its first and its latest, and responses to those left out are not matched [default: 256]')
            [CompletionResult]::new('--max-sdp-announcements', '--max-sdp-announcements', [CompletionResultType]::ParameterName, 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]')
            [CompletionResult]::new('--max-rtp-streams', '--max-rtp-streams', [CompletionResultType]::ParameterName, 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]')
            [CompletionResult]::new('--max-rtp-streams-per-flow', '--max-rtp-streams-per-flow', [CompletionResultType]::ParameterName, 'RTP streams (SSRCs) followed on one UDP flow [default: 16]')
            [CompletionResult]::new('--max-stun-transactions', '--max-stun-transactions', [CompletionResultType]::ParameterName, 'STUN transactions kept [default: 100000]')
            [CompletionResult]::new('--max-stun-tcp-connections', '--max-stun-tcp-connections', [CompletionResultType]::ParameterName, 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]')
            [CompletionResult]::new('--max-softphone-connections', '--max-softphone-connections', [CompletionResultType]::ParameterName, 'Softphone signalling connections followed [default: 10000]')
            [CompletionResult]::new('--max-icmp-errors', '--max-icmp-errors', [CompletionResultType]::ParameterName, 'ICMP errors kept as evidence [default: 10000]')
            [CompletionResult]::new('--max-address-pairs', '--max-address-pairs', [CompletionResultType]::ParameterName, 'Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs between further pairs are not counted [default: 65536]')
            [CompletionResult]::new('--max-diverting-numbers', '--max-diverting-numbers', [CompletionResultType]::ParameterName, 'Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond, the first in capture order are kept [default: 20000]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Also the healthy calls, and whole Call-IDs')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Also the healthy calls, and whole Call-IDs')
            [CompletionResult]::new('--redact', '--redact', [CompletionResultType]::ParameterName, 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sipdiag;rules' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sipdiag;explain' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sipdiag;pattern' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Apply a rewrite to header values / numbers, or to every Diversion/History-Info number in captures, and show before → after')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sipdiag;pattern;test' {
            [CompletionResult]::new('--rewrite', '--rewrite', [CompletionResultType]::ParameterName, 'The rewrite, as ''REGEX=>REPLACEMENT'' (e.g. ''^00(\d+)$=>+$1''); repeat to try several in order')
            [CompletionResult]::new('--value', '--value', [CompletionResultType]::ParameterName, 'A number or a whole header value (e.g. ''<sip:004930123@pbx>;reason=unconditional'')')
            [CompletionResult]::new('--site', '--site', [CompletionResultType]::ParameterName, 'Site profile (TOML): country_code, area_code, internal_length, outside_prefix, known_users, current_pattern, softphone_port, server_media_ports, client_media_ports')
            [CompletionResult]::new('--country-code', '--country-code', [CompletionResultType]::ParameterName, 'Country calling code, e.g. 49')
            [CompletionResult]::new('--area-code', '--area-code', [CompletionResultType]::ParameterName, 'Area code without the leading 0, e.g. 30')
            [CompletionResult]::new('--internal-length', '--internal-length', [CompletionResultType]::ParameterName, 'Length of internal numbers, e.g. 3')
            [CompletionResult]::new('--outside-prefix', '--outside-prefix', [CompletionResultType]::ParameterName, 'Outside-line prefix, e.g. 0')
            [CompletionResult]::new('--known-user', '--known-user', [CompletionResultType]::ParameterName, 'A number that belongs to an XPhone user (repeatable)')
            [CompletionResult]::new('--current-pattern', '--current-pattern', [CompletionResultType]::ParameterName, 'The XccDiversionPattern configured today, to build the suggestion on')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--in-memory', '--in-memory', [CompletionResultType]::ParameterName, 'Hold every call of the captures until the end and read them once, instead of reading them as a stream (the site inferred as `analyze` infers it, then the numbers): memory then grows with the captures. The result is the same')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sipdiag;pattern;help' {
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Apply a rewrite to header values / numbers, or to every Diversion/History-Info number in captures, and show before → after')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sipdiag;pattern;help;test' {
            break
        }
        'sipdiag;pattern;help;help' {
            break
        }
        'sipdiag;ipo-route' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The IP Office configuration (TOML; see the README, "IP Office incoming call routing")')
            [CompletionResult]::new('--request-uri', '--request-uri', [CompletionResultType]::ParameterName, 'Request-URI of the INVITE')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'To URI [default: the Request-URI]')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'From URI (the caller''s CLI)')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Where the INVITE came from')
            [CompletionResult]::new('--via', '--via', [CompletionResultType]::ParameterName, 'Host of the top Via [default: the source address]')
            [CompletionResult]::new('--transport', '--transport', [CompletionResultType]::ParameterName, 'Transport the INVITE arrived on')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'IP Office port the INVITE was sent to [default: 5060, 5061 for TLS]')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'When the call arrived (RFC 3339) [default: now]')
            [CompletionResult]::new('--busy', '--busy', [CompletionResultType]::ParameterName, 'A user or group (name or extension) that is busy (repeatable)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Output format: table, JSON (schema_version 1) or markdown')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: table, JSON (schema_version 1) or markdown')
            [CompletionResult]::new('--redact-key', '--redact-key', [CompletionResultType]::ParameterName, 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Replay one call described by the flags below instead of a capture')
            [CompletionResult]::new('--redact', '--redact', [CompletionResultType]::ParameterName, 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sipdiag;completions' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sipdiag;help' {
            [CompletionResult]::new('messages', 'messages', [CompletionResultType]::ParameterValue, 'List every SIP message with its Wireshark frame number')
            [CompletionResult]::new('calls', 'calls', [CompletionResultType]::ParameterValue, 'Group SIP messages into calls by Call-ID')
            [CompletionResult]::new('analyze', 'analyze', [CompletionResultType]::ParameterValue, 'Diagnose failed Follow-Me and softphone calls: findings with frames and fixes')
            [CompletionResult]::new('media', 'media', [CompletionResultType]::ParameterValue, 'STUN transactions and RTP/RTCP streams')
            [CompletionResult]::new('flow', 'flow', [CompletionResultType]::ParameterValue, 'Draw calls as a ladder: one column per host, both Follow-Me legs in one time order, the frames that findings cite marked')
            [CompletionResult]::new('extract', 'extract', [CompletionResultType]::ParameterValue, 'Cut the selected call out of the captures as pcapng: its SIP and its linked Follow-Me leg''s, with their media (RTP/RTCP/STUN to and from the addresses their SDP announced, while the call lasts)')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Judge each call as soon as it has ended, while the capture is read (or still being written, with --follow): its findings, its media''s included, printed then, memory held only for the calls in progress; the rules that compare calls and the softphone''s ICE rules report at the end')
            [CompletionResult]::new('rules', 'rules', [CompletionResultType]::ParameterValue, 'List the diagnosis rules')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Print the documentation of one rule (id or slug)')
            [CompletionResult]::new('pattern', 'pattern', [CompletionResultType]::ParameterValue, 'Work with XccDiversionPattern rewrites')
            [CompletionResult]::new('ipo-route', 'ipo-route', [CompletionResultType]::ParameterValue, 'Replay Avaya IP Office''s routing of incoming SIP calls from its configuration')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sipdiag;help;messages' {
            break
        }
        'sipdiag;help;calls' {
            break
        }
        'sipdiag;help;analyze' {
            break
        }
        'sipdiag;help;media' {
            break
        }
        'sipdiag;help;flow' {
            break
        }
        'sipdiag;help;extract' {
            break
        }
        'sipdiag;help;watch' {
            break
        }
        'sipdiag;help;rules' {
            break
        }
        'sipdiag;help;explain' {
            break
        }
        'sipdiag;help;pattern' {
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Apply a rewrite to header values / numbers, or to every Diversion/History-Info number in captures, and show before → after')
            break
        }
        'sipdiag;help;pattern;test' {
            break
        }
        'sipdiag;help;ipo-route' {
            break
        }
        'sipdiag;help;completions' {
            break
        }
        'sipdiag;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
