module github.com/deskphone/deskphone/tools/sipbench

go 1.26.0

require (
	github.com/deskphone/deskphone v0.0.0
	github.com/emiago/sipgo v1.7.2
	github.com/pion/sdp/v3 v3.0.20
)

require (
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/pool v0.2.1 // indirect
	github.com/gobwas/ws v1.3.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/pion/randutil v0.1.0 // indirect
	golang.org/x/sync v0.16.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/deskphone/deskphone => ../..
