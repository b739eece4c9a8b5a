// Command hangfw is a firmware that starts and never registers, for the
// update tests (TestFirmwareUpdates): the boot loader must stop it at
// its deadline and roll back.
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("hangfw: started; registering never")
	for {
		time.Sleep(time.Hour) // a timer: not a deadlock the runtime ends
	}
}
