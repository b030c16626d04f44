// Package testtime gives the tests of this module the fixed time their fake clocks
// start at, and lets a run move it: so that the suite can prove that no fake time is
// ever compared with the real clock (x/oauth2's Token.Valid, a JWT exp check, a file's
// time), which would make a test pass before some date and fail after it.
//
// Set AUTHSCHEMA_TEST_EPOCH_SHIFT to a Go duration (175200h is about 20 years, and
// -175200h as many years back) to move every fake clock of the suite; .ci/run runs the
// suite so, once each way.
package testtime

import (
	"fmt"
	"os"
	"time"
)

// EnvShift names the variable that moves Epoch.
const EnvShift = "AUTHSCHEMA_TEST_EPOCH_SHIFT"

// base is the unshifted epoch: a fixed date, so that a run is repeatable.
var base = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// Epoch is the time the tests' fake clocks start at: 2026-11-27 12:00 UTC, moved by
// AUTHSCHEMA_TEST_EPOCH_SHIFT. A malformed shift panics, so that a run meant to be
// shifted cannot pass unshifted.
func Epoch() time.Time {
	v := os.Getenv(EnvShift)
	if v == "" {
		return base
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", EnvShift, err))
	}
	return base.Add(d)
}
