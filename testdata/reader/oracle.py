#!/usr/bin/env python3
"""Turn `tshark -T json --no-duplicate-keys` output (stdin) into one line per SIP message:

    frame<TAB>call_id<TAB>kind

kind is the request method (INVITE, ACK, ...) or the status code (100, 200, ...).  With
--no-duplicate-keys tshark puts several SIP messages of one frame into a list under the "sip"
layer; each becomes its own line, in the order tshark lists them (= order in the frame).
A message whose Call-ID tshark cannot see (e.g. cut by the snap length) gets an empty call_id.
"""
import json
import sys


def first(value):
    return value[0] if isinstance(value, list) else value


def message_line(frame, msg):
    kind = ''
    if 'sip.Request-Line_tree' in msg:
        kind = first(first(msg['sip.Request-Line_tree']).get('sip.Method', ''))
    elif 'sip.Status-Line_tree' in msg:
        kind = first(first(msg['sip.Status-Line_tree']).get('sip.Status-Code', ''))
    call_id = ''
    hdrs = first(msg.get('sip.msg_hdr_tree', {}))
    if isinstance(hdrs, dict) and 'sip.Call-ID' in hdrs:
        call_id = first(hdrs['sip.Call-ID'])
    return f'{frame}\t{call_id}\t{kind}'


def main():
    text = sys.stdin.read()
    packets = json.loads(text) if text.strip() else []
    for pkt in packets:
        layers = pkt['_source']['layers']
        frame = first(layers['frame']['frame.number'])
        sip = layers.get('sip')
        if sip is None:
            continue
        for msg in sip if isinstance(sip, list) else [sip]:
            if isinstance(msg, dict) and ('sip.Request-Line_tree' in msg
                                          or 'sip.Status-Line_tree' in msg):
                print(message_line(frame, msg))


if __name__ == '__main__':
    main()
