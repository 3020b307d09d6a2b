# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sipdiag_global_optspecs
    string join \n color= h/help V/version
end

function __fish_sipdiag_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sipdiag_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sipdiag_using_subcommand
    set -l cmd (__fish_sipdiag_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sipdiag -n "__fish_sipdiag_needs_command" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "messages" -d 'List every SIP message with its Wireshark frame number'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "calls" -d 'Group SIP messages into calls by Call-ID'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "analyze" -d 'Diagnose failed Follow-Me and softphone calls: findings with frames and fixes'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "media" -d 'STUN transactions and RTP/RTCP streams'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "flow" -d 'Draw calls as a ladder: one column per host, both Follow-Me legs in one time order, the frames that findings cite marked'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "extract" -d 'Cut the selected call out of the captures as pcapng: its SIP and its linked Follow-Me leg\'s, with their media (RTP/RTCP/STUN to and from the addresses their SDP announced, while the call lasts)'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "watch" -d 'Judge each call as soon as it has ended, while the capture is read (or still being written, with --follow): its findings, its media\'s included, printed then, memory held only for the calls in progress; the rules that compare calls and the softphone\'s ICE rules report at the end'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "rules" -d 'List the diagnosis rules'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "explain" -d 'Print the documentation of one rule (id or slug)'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "pattern" -d 'Work with XccDiversionPattern rewrites'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "ipo-route" -d 'Replay Avaya IP Office\'s routing of incoming SIP calls from its configuration'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c sipdiag -n "__fish_sipdiag_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -s f -l format -d 'Output format' -r -f -a "table\t'Aligned table for the terminal'
json\t'JSON for scripts and ticket systems (see `schema_version`)'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l time -d 'The Time column of `messages` (table): absolute (RFC 3339, UTC), relative (seconds since the first message listed) or delta (since the previous one), as in Wireshark' -r -f -a "absolute\t''
relative\t''
delta\t''"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l call-id -d 'Only the call with this Call-ID (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l number -d 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l ip -d 'Only calls with a message from or to this address (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l since -d 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture\'s first day' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l until -d 'Only calls that started at or before this time (as --since)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l redact-key -d 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-tcp-connections -d 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-fragments -d 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and SCTP messages split over chunks; beyond, the least recently added-to is dropped [default: 4096]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-media-flows -d 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call\'s media is not judged [default: 100000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-sip-message -d 'Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a longer message is dropped) [default: 1048576]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-sip-header -d 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-calls -d 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-messages-per-call -d 'Messages kept in one call\'s message list (a registration refreshed for days, a flood under one Call-ID); beyond, the list keeps its first messages and the latest, and the call\'s state still follows every message [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-invites-per-call -d 'INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the call keeps its first and its latest, and responses to those left out are not matched [default: 256]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-sdp-announcements -d 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-rtp-streams -d 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-rtp-streams-per-flow -d 'RTP streams (SSRCs) followed on one UDP flow [default: 16]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-stun-transactions -d 'STUN transactions kept [default: 100000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-stun-tcp-connections -d 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-softphone-connections -d 'Softphone signalling connections followed [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-icmp-errors -d 'ICMP errors kept as evidence [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-address-pairs -d 'Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs between further pairs are not counted [default: 65536]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l max-diverting-numbers -d 'Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond, the first in capture order are kept [default: 20000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -s v -l verbose -d 'Whole Call-IDs in the `calls` table (shortened to 24 characters otherwise)'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -l redact -d 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand messages" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -s f -l format -d 'Output format' -r -f -a "table\t'Aligned table for the terminal'
json\t'JSON for scripts and ticket systems (see `schema_version`)'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l time -d 'The Time column of `messages` (table): absolute (RFC 3339, UTC), relative (seconds since the first message listed) or delta (since the previous one), as in Wireshark' -r -f -a "absolute\t''
relative\t''
delta\t''"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l call-id -d 'Only the call with this Call-ID (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l number -d 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l ip -d 'Only calls with a message from or to this address (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l since -d 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture\'s first day' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l until -d 'Only calls that started at or before this time (as --since)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l redact-key -d 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-tcp-connections -d 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-fragments -d 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and SCTP messages split over chunks; beyond, the least recently added-to is dropped [default: 4096]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-media-flows -d 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call\'s media is not judged [default: 100000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-sip-message -d 'Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a longer message is dropped) [default: 1048576]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-sip-header -d 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-calls -d 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-messages-per-call -d 'Messages kept in one call\'s message list (a registration refreshed for days, a flood under one Call-ID); beyond, the list keeps its first messages and the latest, and the call\'s state still follows every message [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-invites-per-call -d 'INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the call keeps its first and its latest, and responses to those left out are not matched [default: 256]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-sdp-announcements -d 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-rtp-streams -d 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-rtp-streams-per-flow -d 'RTP streams (SSRCs) followed on one UDP flow [default: 16]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-stun-transactions -d 'STUN transactions kept [default: 100000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-stun-tcp-connections -d 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-softphone-connections -d 'Softphone signalling connections followed [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-icmp-errors -d 'ICMP errors kept as evidence [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-address-pairs -d 'Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs between further pairs are not counted [default: 65536]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l max-diverting-numbers -d 'Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond, the first in capture order are kept [default: 20000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -s v -l verbose -d 'Whole Call-IDs in the `calls` table (shortened to 24 characters otherwise)'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -l redact -d 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand calls" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -s f -l format -d 'Report format' -r -f -a "table\t'Table for the terminal (colour as `--color` says)'
json\t'JSON (schema_version 2) for ticket systems and scripts'
markdown\t'Markdown for pasting into tickets'
html\t'One self-contained HTML page with an SVG ladder per failed call (analyze only)'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -s o -l output -d 'Write the report to FILE instead of standard output' -r -F
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l fail-on -d 'Exit 1 when a finding at or above this severity is reported' -r -f -a "error\t''
warning\t''
info\t''
none\t''"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l select -d 'Run only these rules (ids or slugs, comma-separated or repeated)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l ignore -d 'Skip these rules (ids or slugs)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l severity -d 'Override a rule\'s severity, e.g. SIP001=error (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l xcc -d 'XCC\'s address (ADDR or ADDR:PORT); repeat for several trunks. Overrides inference (for `watch`, recommended: without it, XCC is known only once a call has shown it)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l pbx -d 'The PBX\'s address (ADDR or ADDR:PORT). Overrides inference' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l ipo -d 'An IP Office address (repeatable): its incoming calls are checked (IPO rules)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l ipo-config -d 'The IP Office configuration (TOML, as for `ipo-route`): the IPO rules replay its routing' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l annotate -d 'Also write the capture to this file as pcapng, with a packet comment `sipdiag ID slug: title` on every frame a finding cites (Wireshark: frame.comment). Takes one capture: it is read again once the findings are known (standard input or a named pipe from a copy kept in the temporary directory)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l call-id -d 'Only the call with this Call-ID (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l number -d 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l ip -d 'Only calls with a message from or to this address (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l since -d 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture\'s first day' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l until -d 'Only calls that started at or before this time (as --since)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l site -d 'Site profile (TOML): country_code, area_code, internal_length, outside_prefix, known_users, current_pattern, softphone_port, server_media_ports, client_media_ports' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l country-code -d 'Country calling code, e.g. 49' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l area-code -d 'Area code without the leading 0, e.g. 30' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l internal-length -d 'Length of internal numbers, e.g. 3' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l outside-prefix -d 'Outside-line prefix, e.g. 0' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l known-user -d 'A number that belongs to an XPhone user (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l current-pattern -d 'The XccDiversionPattern configured today, to build the suggestion on' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l softphone-port -d 'TCP port of the softphone signalling [default: 2230]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l server-media-ports -d 'Server (XCC) media UDP range [default: 30000-33000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l client-media-ports -d 'Client (softphone) media UDP range [default: 49152-65535]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l redact-key -d 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-tcp-connections -d 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-fragments -d 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and SCTP messages split over chunks; beyond, the least recently added-to is dropped [default: 4096]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-media-flows -d 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call\'s media is not judged [default: 100000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-sip-message -d 'Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a longer message is dropped) [default: 1048576]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-sip-header -d 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-calls -d 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-messages-per-call -d 'Messages kept in one call\'s message list (a registration refreshed for days, a flood under one Call-ID); beyond, the list keeps its first messages and the latest, and the call\'s state still follows every message [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-invites-per-call -d 'INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the call keeps its first and its latest, and responses to those left out are not matched [default: 256]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-sdp-announcements -d 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-rtp-streams -d 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-rtp-streams-per-flow -d 'RTP streams (SSRCs) followed on one UDP flow [default: 16]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-stun-transactions -d 'STUN transactions kept [default: 100000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-stun-tcp-connections -d 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-softphone-connections -d 'Softphone signalling connections followed [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-icmp-errors -d 'ICMP errors kept as evidence [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-address-pairs -d 'Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs between further pairs are not counted [default: 65536]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l max-diverting-numbers -d 'Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond, the first in capture order are kept [default: 20000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l flow -d 'After the report (table or markdown), draw the ladder of each failed call with its linked leg (as `sipdiag flow`)'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l each -d 'Analyse each capture on its own, several at a time (a directory: every capture file in it and below): one report per file, then a summary table; the exit code is the worst file\'s'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -s v -l verbose -d 'Every finding of each group, every healthy call and whole Call-IDs (JSON always has them all)'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l in-memory -d 'Hold every call until the end and read the capture once, instead of judging each call as it ends (and reading the capture again when its end contradicts what its first calls were judged with): memory then grows with the capture. The report is the same. Several files are read merged, as a stream too; --ipo-config holds every call only when no IP Office address is known before (none in its file, no --ipo); standard input and a named pipe are kept for a second reading (copied to the temporary directory, or read where they lie when redirected from a file; held whole when neither can be, or when among several files)'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -l redact -d 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand analyze" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -s f -l format -d 'Output format' -r -f -a "table\t'Aligned table for the terminal'
json\t'JSON for scripts and ticket systems (see `schema_version`)'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l call-id -d 'Only the call with this Call-ID (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l number -d 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l ip -d 'Only calls with a message from or to this address (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l since -d 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture\'s first day' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l until -d 'Only calls that started at or before this time (as --since)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l softphone-port -d 'TCP port of the softphone signalling [default: 2230]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l server-media-ports -d 'Server (XCC) media UDP range [default: 30000-33000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l client-media-ports -d 'Client (softphone) media UDP range [default: 49152-65535]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l redact-key -d 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-tcp-connections -d 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-fragments -d 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and SCTP messages split over chunks; beyond, the least recently added-to is dropped [default: 4096]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-media-flows -d 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call\'s media is not judged [default: 100000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-sip-message -d 'Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a longer message is dropped) [default: 1048576]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-sip-header -d 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-calls -d 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-messages-per-call -d 'Messages kept in one call\'s message list (a registration refreshed for days, a flood under one Call-ID); beyond, the list keeps its first messages and the latest, and the call\'s state still follows every message [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-invites-per-call -d 'INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the call keeps its first and its latest, and responses to those left out are not matched [default: 256]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-sdp-announcements -d 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-rtp-streams -d 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-rtp-streams-per-flow -d 'RTP streams (SSRCs) followed on one UDP flow [default: 16]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-stun-transactions -d 'STUN transactions kept [default: 100000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-stun-tcp-connections -d 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-softphone-connections -d 'Softphone signalling connections followed [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-icmp-errors -d 'ICMP errors kept as evidence [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-address-pairs -d 'Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs between further pairs are not counted [default: 65536]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l max-diverting-numbers -d 'Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond, the first in capture order are kept [default: 20000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -l redact -d 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand media" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -s f -l format -d 'Output format' -r -f -a "text\t'Text ladder fitted to the terminal width (COLUMNS honoured)'
markdown\t'The text ladder in a Markdown code block, for tickets'
mermaid\t'A Mermaid sequenceDiagram'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l call-id -d 'Only the call with this Call-ID (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l number -d 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l ip -d 'Only calls with a message from or to this address (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l since -d 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture\'s first day' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l until -d 'Only calls that started at or before this time (as --since)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l xcc -d 'XCC\'s address (ADDR or ADDR:PORT), as for analyze' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l pbx -d 'The PBX\'s address (ADDR or ADDR:PORT), as for analyze' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l site -d 'Site profile (TOML): country_code, area_code, internal_length, outside_prefix, known_users, current_pattern, softphone_port, server_media_ports, client_media_ports' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l country-code -d 'Country calling code, e.g. 49' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l area-code -d 'Area code without the leading 0, e.g. 30' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l internal-length -d 'Length of internal numbers, e.g. 3' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l outside-prefix -d 'Outside-line prefix, e.g. 0' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l known-user -d 'A number that belongs to an XPhone user (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l current-pattern -d 'The XccDiversionPattern configured today, to build the suggestion on' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l softphone-port -d 'TCP port of the softphone signalling [default: 2230]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l server-media-ports -d 'Server (XCC) media UDP range [default: 30000-33000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l client-media-ports -d 'Client (softphone) media UDP range [default: 49152-65535]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l redact-key -d 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-tcp-connections -d 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-fragments -d 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and SCTP messages split over chunks; beyond, the least recently added-to is dropped [default: 4096]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-media-flows -d 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call\'s media is not judged [default: 100000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-sip-message -d 'Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a longer message is dropped) [default: 1048576]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-sip-header -d 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-calls -d 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-messages-per-call -d 'Messages kept in one call\'s message list (a registration refreshed for days, a flood under one Call-ID); beyond, the list keeps its first messages and the latest, and the call\'s state still follows every message [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-invites-per-call -d 'INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the call keeps its first and its latest, and responses to those left out are not matched [default: 256]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-sdp-announcements -d 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-rtp-streams -d 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-rtp-streams-per-flow -d 'RTP streams (SSRCs) followed on one UDP flow [default: 16]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-stun-transactions -d 'STUN transactions kept [default: 100000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-stun-tcp-connections -d 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-softphone-connections -d 'Softphone signalling connections followed [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-icmp-errors -d 'ICMP errors kept as evidence [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-address-pairs -d 'Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs between further pairs are not counted [default: 65536]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l max-diverting-numbers -d 'Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond, the first in capture order are kept [default: 20000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l redact -d 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -l in-memory -d 'Hold every call until the end and read the file once, instead of judging each call as it ends and reading the file again for the messages of the calls drawn: memory then grows with the capture. The ladder is the same. Several files are read merged, as a stream too; standard input and a named pipe are kept for the second reading (copied to the temporary directory, or read where they lie when redirected from a file; held whole when neither can be, or when among several files)'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand flow" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -s o -l output -d 'The pcapng file to write' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -l call-id -d 'Only the call with this Call-ID (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -l number -d 'Only calls naming this number in the Request-URI, From, To, P-Asserted-Identity, Diversion or History-Info (`+`, separators and 00/0 prefixes ignored; repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -l ip -d 'Only calls with a message from or to this address (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -l since -d 'Only calls still active at or after this time: RFC 3339, or HH:MM[:SS] in UTC on the capture\'s first day' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -l until -d 'Only calls that started at or before this time (as --since)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -l xcc -d 'XCC\'s address (ADDR or ADDR:PORT), as for analyze (it decides which legs link)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -l pbx -d 'The PBX\'s address (ADDR or ADDR:PORT), as for analyze' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -l redact-key -d 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -l redact -d 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -l in-memory -d 'Hold every call of the first reading and select from them, instead of finding the selected calls as analyze does, as a stream, and then holding only those: memory then grows with the capture. The extract is the same. Several files always hold every call'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand extract" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -s i -l interface -d 'Capture live from this network interface through libpcap (root or CAP_NET_RAW); needs a build with the cargo feature `live`. Stops at Ctrl-C, or as `--until-idle` says' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l follow -d 'A capture file still being written (`tcpdump -w`): read as it grows, and on into the next file of its rotated set (`tcpdump -C`/`-G`). Stops at Ctrl-C, or as `--until-idle` says' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l until-idle -d 'With --follow: stop once the file has not grown for SECS seconds and no next file of its set has appeared; with -i: once no packet has come for SECS seconds. Without it, Ctrl-C stops the same way (the calls in progress are judged, the summary printed)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -s f -l format -d 'Output format' -r -f -a "table\t'A block of text per failed call (colour as `--color` says)'
json\t'JSON Lines: one object per judged call with findings, and one at the end'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l fail-on -d 'Exit 1 when a finding at or above this severity is reported' -r -f -a "error\t''
warning\t''
info\t''
none\t''"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l select -d 'Run only these rules (ids or slugs, comma-separated or repeated)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l ignore -d 'Skip these rules (ids or slugs)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l severity -d 'Override a rule\'s severity, e.g. SIP001=error (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l xcc -d 'XCC\'s address (ADDR or ADDR:PORT); repeat for several trunks. Overrides inference (for `watch`, recommended: without it, XCC is known only once a call has shown it)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l pbx -d 'The PBX\'s address (ADDR or ADDR:PORT). Overrides inference' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l ipo -d 'An IP Office address (repeatable): its incoming calls are checked (IPO rules)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l ipo-config -d 'The IP Office configuration (TOML, as for `ipo-route`): the IPO rules replay its routing' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l softphone-port -d 'TCP port of the softphone signalling, which the watch notes (it judges SIP calls only) [default: 2230]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l site -d 'Site profile (TOML): country_code, area_code, internal_length, outside_prefix, known_users, current_pattern, softphone_port, server_media_ports, client_media_ports' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l country-code -d 'Country calling code, e.g. 49' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l area-code -d 'Area code without the leading 0, e.g. 30' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l internal-length -d 'Length of internal numbers, e.g. 3' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l outside-prefix -d 'Outside-line prefix, e.g. 0' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l known-user -d 'A number that belongs to an XPhone user (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l current-pattern -d 'The XccDiversionPattern configured today, to build the suggestion on' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l redact-key -d 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-tcp-connections -d 'TCP connections followed at once; beyond, the least recently active is closed [default: 50000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-fragments -d 'Fragmented IP datagrams under reassembly at once (and 8 KiB each on average), and SCTP messages split over chunks; beyond, the least recently added-to is dropped [default: 4096]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-media-flows -d 'UDP media flows followed at once; beyond, the one idle longest is forgotten and its call\'s media is not judged [default: 100000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-sip-message -d 'Largest SIP message on TCP, in bytes; a longer body is skipped unread (on SCTP, a longer message is dropped) [default: 1048576]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-sip-header -d 'Longest SIP header block on TCP, in bytes; a longer one is given up [default: 65536]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-calls -d 'Calls not yet ended held at once (INVITEs never answered, registrations, established dialogs); beyond, the least recently active is let go: dropped from `analyze`, retired early by `calls` and `watch` [default: 20000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-messages-per-call -d 'Messages kept in one call\'s message list (a registration refreshed for days, a flood under one Call-ID); beyond, the list keeps its first messages and the latest, and the call\'s state still follows every message [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-invites-per-call -d 'INVITE transactions kept in one call (re-INVITEs under one Call-ID); beyond, the call keeps its first and its latest, and responses to those left out are not matched [default: 256]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-sdp-announcements -d 'Media addresses announced by SDP kept (`c=`/`m=`, ICE candidates); beyond, the media of calls still going on is not judged [default: 250000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-rtp-streams -d 'RTP streams followed in all; beyond, the media of calls still going on is not judged [default: 200000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-rtp-streams-per-flow -d 'RTP streams (SSRCs) followed on one UDP flow [default: 16]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-stun-transactions -d 'STUN transactions kept [default: 100000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-stun-tcp-connections -d 'TCP directions examined for STUN, up to 70,000 bytes buffered each [default: 1000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-softphone-connections -d 'Softphone signalling connections followed [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-icmp-errors -d 'ICMP errors kept as evidence [default: 10000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-address-pairs -d 'Pairs of addresses whose INVITEs are counted to name the PBXs; beyond, INVITEs between further pairs are not counted [default: 65536]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l max-diverting-numbers -d 'Distinct diverting numbers the XccDiversionPattern suggestion is proven on; beyond, the first in capture order are kept [default: 20000]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -s v -l verbose -d 'Also the healthy calls, and whole Call-IDs'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -l redact -d 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand watch" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand rules" -s f -l format -d 'Output format' -r -f -a "table\t'Aligned table for the terminal'
json\t'JSON for scripts and ticket systems (see `schema_version`)'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand rules" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand rules" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand rules" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand explain" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand explain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand explain" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and not __fish_seen_subcommand_from test help" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and not __fish_seen_subcommand_from test help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and not __fish_seen_subcommand_from test help" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and not __fish_seen_subcommand_from test help" -f -a "test" -d 'Apply a rewrite to header values / numbers, or to every Diversion/History-Info number in captures, and show before → after'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and not __fish_seen_subcommand_from test help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -l rewrite -d 'The rewrite, as \'REGEX=>REPLACEMENT\' (e.g. \'^00(\\d+)$=>+$1\'); repeat to try several in order' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -l value -d 'A number or a whole header value (e.g. \'<sip:004930123@pbx>;reason=unconditional\')' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -l site -d 'Site profile (TOML): country_code, area_code, internal_length, outside_prefix, known_users, current_pattern, softphone_port, server_media_ports, client_media_ports' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -l country-code -d 'Country calling code, e.g. 49' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -l area-code -d 'Area code without the leading 0, e.g. 30' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -l internal-length -d 'Length of internal numbers, e.g. 3' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -l outside-prefix -d 'Outside-line prefix, e.g. 0' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -l known-user -d 'A number that belongs to an XPhone user (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -l current-pattern -d 'The XccDiversionPattern configured today, to build the suggestion on' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -s f -l format -d 'Output format' -r -f -a "table\t'Aligned table for the terminal'
json\t'JSON for scripts and ticket systems (see `schema_version`)'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -l in-memory -d 'Hold every call of the captures until the end and read them once, instead of reading them as a stream (the site inferred as `analyze` infers it, then the numbers): memory then grows with the captures. The result is the same'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from test" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from help" -f -a "test" -d 'Apply a rewrite to header values / numbers, or to every Diversion/History-Info number in captures, and show before → after'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand pattern; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l config -d 'The IP Office configuration (TOML; see the README, "IP Office incoming call routing")' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l request-uri -d 'Request-URI of the INVITE' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l to -d 'To URI [default: the Request-URI]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l from -d 'From URI (the caller\'s CLI)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l source -d 'Where the INVITE came from' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l via -d 'Host of the top Via [default: the source address]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l transport -d 'Transport the INVITE arrived on' -r -f -a "udp\t''
tcp\t''
tls\t''"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l port -d 'IP Office port the INVITE was sent to [default: 5060, 5061 for TLS]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l at -d 'When the call arrived (RFC 3339) [default: now]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l busy -d 'A user or group (name or extension) that is busy (repeatable)' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -s f -l format -d 'Output format: table, JSON (schema_version 1) or markdown' -r -f -a "table\t'Table for the terminal (colour as `--color` says)'
json\t'JSON (schema_version 2) for ticket systems and scripts'
markdown\t'Markdown for pasting into tickets'
html\t'One self-contained HTML page with an SVG ladder per failed call (analyze only)'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l redact-key -d 'With --redact: derive the tokens from KEY, so that runs with the same KEY give the same tokens [default: a random key per run]' -r
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l dry-run -d 'Replay one call described by the flags below instead of a capture'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -l redact -d 'Replace phone numbers, SIP user parts, display names, host names, IP and MAC addresses by consistent tokens of the same length and format (`+49…` stays `+49…`, `0…` stays `0…`, extensions keep their length), zero RTP voice and blank other payloads; findings and frame numbers stay the same. Capture paths print as `capture-N`'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand ipo-route" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand completions" -l color -d 'When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never' -r -f -a "auto\t'On a terminal, unless the NO_COLOR environment variable is set (https://no-color.org)'
always\t'Always, even into a pipe or a file, and whatever NO_COLOR says'
never\t'Never'"
complete -c sipdiag -n "__fish_sipdiag_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand completions" -s V -l version -d 'Print version'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "messages" -d 'List every SIP message with its Wireshark frame number'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "calls" -d 'Group SIP messages into calls by Call-ID'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "analyze" -d 'Diagnose failed Follow-Me and softphone calls: findings with frames and fixes'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "media" -d 'STUN transactions and RTP/RTCP streams'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "flow" -d 'Draw calls as a ladder: one column per host, both Follow-Me legs in one time order, the frames that findings cite marked'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "extract" -d 'Cut the selected call out of the captures as pcapng: its SIP and its linked Follow-Me leg\'s, with their media (RTP/RTCP/STUN to and from the addresses their SDP announced, while the call lasts)'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "watch" -d 'Judge each call as soon as it has ended, while the capture is read (or still being written, with --follow): its findings, its media\'s included, printed then, memory held only for the calls in progress; the rules that compare calls and the softphone\'s ICE rules report at the end'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "rules" -d 'List the diagnosis rules'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "explain" -d 'Print the documentation of one rule (id or slug)'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "pattern" -d 'Work with XccDiversionPattern rewrites'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "ipo-route" -d 'Replay Avaya IP Office\'s routing of incoming SIP calls from its configuration'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and not __fish_seen_subcommand_from messages calls analyze media flow extract watch rules explain pattern ipo-route completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sipdiag -n "__fish_sipdiag_using_subcommand help; and __fish_seen_subcommand_from pattern" -f -a "test" -d 'Apply a rewrite to header values / numbers, or to every Diversion/History-Info number in captures, and show before → after'
