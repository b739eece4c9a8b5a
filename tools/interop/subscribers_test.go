package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteSubscribers: the db_text table WITH_SUBSCRIBERS loads, one row
// a subscriber in extension order, and the define naming its folder; a
// name or password db_text would need escaped is refused.
func TestWriteSubscribers(t *testing.T) {
	dir := t.TempDir()
	def, err := WriteSubscribers(dir, map[string]string{"20002": "b2", "20001": "a1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `SUBSCRIBERS="text://` + dir + `"`; def != want {
		t.Errorf("define %q, want %q", def, want)
	}
	b, err := os.ReadFile(filepath.Join(dir, "htable"))
	if err != nil {
		t.Fatal(err)
	}
	want := "id(int,auto) key_name(string) key_type(int) value_type(int) key_value(string) expires(int)\n" +
		"1:20001:0:0:a1:0\n2:20002:0:0:b2:0\n"
	if string(b) != want {
		t.Errorf("table:\n%s\nwant:\n%s", b, want)
	}
	for _, bad := range []map[string]string{{"20001": "pa:ss"}, {"a b": "x"}, {"20001": ""}} {
		if _, err := WriteSubscribers(dir, bad); err == nil || !strings.Contains(err.Error(), "letters, digits") {
			t.Errorf("%v: err %v", bad, err)
		}
	}
}
