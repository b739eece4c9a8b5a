package lab

import "testing"

// TestVoicemailOfUnregistered: 1001 calls 1002, which is not registered;
// the development PBX answers from 1002's mailbox and says so
// (History-Info, P-Asserted-Identity), and the phone shows "Voicemail of
// 1002", not "Talking to 1002". The vm key of a lab phone reaches the
// PBX's mailboxes (voicemail.number = 8000, set by the lab).
func TestVoicemailOfUnregistered(t *testing.T) {
	f := startFlow(t, []string{"1001"}, nil)
	f.Do("1001", "hook off")
	f.Expect("1001", `^tone dial$`)
	f.Do("1001", "dial 1002")
	f.Expect("1001", `^display 1 Voicemail of 1002$`)
	f.HangupAll()
	f.Do("1001", "key vm")
	f.Expect("1001", `^call \d+ calling 8000$`)
	f.Expect("1001", `^call \d+ connected`)
	f.HangupAll()
}
