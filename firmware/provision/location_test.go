package provision

import "testing"

func TestParseLocation(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want Location
		url  string // URL("a.cfg")
	}{
		{"10.0.0.1", true, Location{"tftp", "10.0.0.1", "", ""}, "tftp://10.0.0.1/a.cfg"},
		{"10.0.0.1:6969", true, Location{"tftp", "10.0.0.1:6969", "", ""}, "tftp://10.0.0.1:6969/a.cfg"},
		{"  tftp.example\x00", true, Location{"tftp", "tftp.example", "", ""}, ""},
		{"10.0.0.1/phones", true, Location{"tftp", "10.0.0.1", "phones", ""}, "tftp://10.0.0.1/phones/a.cfg"},
		{"TFTP://h/a/../b/", true, Location{"tftp", "h", "b", ""}, ""},
		{"tftp://h/../../etc/x.cfg", true, Location{"tftp", "h", "etc", "x.cfg"}, ""},
		{"tftp://h", true, Location{"tftp", "h", "", ""}, ""},
		{"http://prov.example/phones/", true, Location{"http", "prov.example", "phones", ""}, "http://prov.example/phones/a.cfg"},
		{"HTTPS://prov.example:8443/a/b/site.cfg", true, Location{"https", "prov.example:8443", "a/b", "site.cfg"}, "https://prov.example:8443/a/b/a.cfg"},
		{"https://[::1]:8443/", true, Location{"https", "[::1]:8443", "", ""}, "https://[::1]:8443/a.cfg"},
		{"https://prov.example/%2e%2e/x/", true, Location{"https", "prov.example", "x", ""}, ""},
		{"tftp://", false, Location{}, ""},
		{"ftp://h/", false, Location{}, ""},
		{"https://u:p@h/", false, Location{}, ""},
		{"https://h/?mac=1", false, Location{}, ""},
		{"https://h/#x", false, Location{}, ""},
		{"", false, Location{}, ""},
		{"h\x01", false, Location{}, ""},
		{"-bad.example", false, Location{}, ""},
		{"h:99999x", false, Location{}, ""},
		{"héllo", false, Location{}, ""},
	}
	for _, tt := range tests {
		got, ok := ParseLocation(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseLocation(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if tt.url != "" && got.URL("a.cfg") != tt.url {
			t.Errorf("ParseLocation(%q).URL(a.cfg) = %q, want %q", tt.in, got.URL("a.cfg"), tt.url)
		}
	}
}

// FuzzParseLocation: whatever DHCP or a configuration says, a location
// that parses has a scheme the phone speaks and a folder that stays under
// the server's root, and its own String parses back to the same folder.
func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "tftp://h:69/a/site.cfg", "https://prov.example/phones/", "http://[::1]:80/../x", "h/a/../../b", "https://h/?q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := ParseLocation(s)
		if !ok {
			return
		}
		switch l.Scheme {
		case "tftp", "http", "https":
		default:
			t.Fatalf("ParseLocation(%q): scheme %q", s, l.Scheme)
		}
		if l.Host == "" || len(l.Dir) > 0 && (l.Dir[0] == '/' || l.Dir[len(l.Dir)-1] == '/') || l.Dir == ".." || len(l.Dir) > 2 && l.Dir[:3] == "../" {
			t.Fatalf("ParseLocation(%q) = %+v", s, l)
		}
		back, ok := ParseLocation(l.String())
		if !ok || back.Scheme != l.Scheme || back.Host != l.Host {
			t.Fatalf("ParseLocation(%q) = %+v; its String %q parses to %+v, %v", s, l, l.String(), back, ok)
		}
	})
}
