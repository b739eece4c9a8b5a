// Command crashfw is a firmware that crashes at start, for the update
// tests (TestFirmwareUpdates): signed properly, it must be rolled back.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("crashfw: starting, and crashing")
	os.Exit(3)
}
