package boot

import "testing"

// TestDropStartPages: the test binary's own code and read-only data are
// let go of and mapped back as they run; the process goes on (this very
// function's code faulted back in), and the file part of its resident set
// is smaller right after.
func TestDropStartPages(t *testing.T) {
	before, after, err := DropStartPages()
	if err != nil {
		t.Fatal(err)
	}
	if before <= 0 || after >= before {
		t.Fatalf("RssFile %d KiB before, %d KiB after: want it smaller after", before, after)
	}
	t.Logf("RssFile %d KiB before, %d KiB after", before, after)
	if _, _, err := DropStartPages(); err != nil { // and again: nothing breaks
		t.Fatal(err)
	}
}
