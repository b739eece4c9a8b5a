// Package webtest tests the phone's web page (firmware/web) the way an
// administrator uses it: in a real browser, headless Chromium driven from
// Go with github.com/chromedp/chromedp, against a phone booted in QEMU
// (tools/lab) with its web port forwarded to the host. It is its own
// module so that the firmware's go.mod never carries chromedp and its
// protocol tables; `make e2e` runs it after tools/lab.
//
// The test saves a PNG of each page it reads into $DESKPHONE_SCREENSHOTS
// (default: the test's temporary folder).
package webtest
