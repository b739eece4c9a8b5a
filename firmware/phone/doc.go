// Package phone is the desk phone's state machine: it turns what a person does
// (hook, keys) and what the network says (registrations, calls) into SIP
// actions, audio streams and tones, and tells the person what happens through
// a hal.Observer. One goroutine, Run, owns all of its state; the user agent,
// the keypad and timers post events to it. Its timers come from the time
// package, so tests run Run inside a testing/synctest bubble.
//
// The keys (panel.md names) and what they do:
//
//   - digits: dial (dialplan.digitmap sends a complete number at once, # and
//     dialplan.interdigit_seconds send what was dialled, *1 to *9 are
//     speeddial.1 to .9); during a call they go out as RFC 4733 events
//     (display "sent ..."; digits received show as "got ..." and `log dtmf
//     received D`).
//   - send, ok: place the call; redial at dial tone; answer a ringing or
//     waiting call; call back the history entry shown.
//   - up, down: browse the call history (history.size calls); cancel leaves.
//   - redial: call the last number again.
//   - dnd: do not disturb on or off (`led dnd`): calls are forwarded to
//     call.forward_busy, else refused 486.
//   - fwd: after digits, forward every call to them; without, forwarding off.
//     Forwarding (call.forward_always, _busy, _noanswer; "vm" is
//     voicemail.number) answers 302 with Diversion: `call ID forwarded PEER`.
//   - vm: call voicemail.number. Message-summary reports give `mwi LINE N/O`
//     and `led mwi on|off`.
//   - mute: the far end hears silence (`led mute`).
//   - hold: hold or resume (`led hold`, `phone held`, `call ID held`); with a
//     call waiting, hold the call and answer the waiting one; with one call
//     held and one connected, swap. Digits while a call is held dial a
//     second call.
//   - transfer: then digits, then send (or ok, #, transfer): blind transfer
//     (REFER); with one call held and a call to the target connected, the
//     held party is referred to the target with Replaces (attended
//     transfer, RFC 5589 section 7, RFC 3891): the target's phone takes it
//     in place of the consultation call without ringing.
//   - conf: with one call held and one connected, a local three-way
//     conference; conf again splits it.
//   - line1 to line4: the line the next calls go out on; `led lineN`
//     follows registration (on, off, blink when it failed).
//
// Text messages (SIP MESSAGE) show on display row 2, "Msg from 1002:
// hello", until the next key or for 30 s (message.go), and are logged.
// An incoming call nobody answers is ended by the user agent after
// call.ring_seconds with 480 and counts as missed; no-answer forwarding
// (call.noanswer_seconds) comes first when it is shorter.
package phone
