// Command configdoc prints docs/config.md, the reference of every
// configuration key: go run ./tools/cmd/configdoc > docs/config.md
package main

import (
	"fmt"
	"os"

	"github.com/deskphone/deskphone/tools/configdoc"
)

func main() {
	if err := configdoc.Write(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "configdoc:", err)
		os.Exit(1)
	}
}
