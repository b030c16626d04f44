package testtime

import (
	"testing"
	"time"
)

// TestEpochShift: the variable moves the epoch by its duration, either way.
func TestEpochShift(t *testing.T) {
	for _, tt := range []struct {
		shift string
		want  time.Time
	}{
		{"", base},
		{"175200h", base.Add(175200 * time.Hour)},
		{"-175200h", base.Add(-175200 * time.Hour)},
	} {
		t.Setenv(EnvShift, tt.shift)
		if got := Epoch(); !got.Equal(tt.want) {
			t.Errorf("%s=%q: %v, want %v", EnvShift, tt.shift, got, tt.want)
		}
	}
	t.Setenv(EnvShift, "20 years")
	defer func() {
		if recover() == nil {
			t.Error("a malformed shift did not stop the run")
		}
	}()
	Epoch()
}
