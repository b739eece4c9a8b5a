package configdoc

import (
	"os"
	"strings"
	"testing"

	"github.com/deskphone/deskphone/firmware/config"
)

// TestDocIsCurrent fails when docs/config.md no longer matches the key table:
// run `go run ./tools/cmd/configdoc > docs/config.md`.
func TestDocIsCurrent(t *testing.T) {
	var b strings.Builder
	if err := Write(&b); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != b.String() {
		t.Fatal("docs/config.md is stale: go run ./tools/cmd/configdoc > docs/config.md")
	}
	// Every core key of the shared contract is documented.
	for _, k := range []string{"line.N.user", "line.N.registrar", "sip.port", "sip.trusted_only", "rtp.port_min", "audio.codecs", "call.noanswer_seconds", "voicemail.number", "tones.locale", "provision.resync_minutes"} {
		if !strings.Contains(b.String(), "| `"+k+"` |") {
			t.Errorf("key %s missing from the reference", k)
		}
	}
	if len(config.Keys()) < 20 {
		t.Fatalf("only %d keys", len(config.Keys()))
	}
}
