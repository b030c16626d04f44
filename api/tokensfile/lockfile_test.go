//go:build unix

package tokensfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/api/tokensfile"
)

// TestLockRefusesLockFileOthersCanHold: a lock file that another user owns, or that
// others may open (flock needs only a descriptor opened for reading), is refused at
// once with ErrUnsafeLock, naming the lock file and what to do; a 0600 lock file of
// ours is taken.
func TestLockRefusesLockFileOthersCanHold(t *testing.T) {
	for _, tt := range []struct {
		name  string
		mode  os.FileMode
		owner int // -1: ours
		want  string
	}{
		{"ours, 0600", 0o600, -1, ""},
		{"ours, 0666", 0o666, -1, "chmod 600"},
		{"ours, 0640", 0o640, -1, "chmod 600"},
		{"ours, 0604", 0o604, -1, "chmod 600"},
		{"another user's, 0600", 0o600, 65534, "owned by uid 65534"},
		{"another user's, 0666", 0o666, 65534, "owned by uid 65534"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.owner >= 0 && os.Geteuid() != 0 {
				t.Skip("making a file another user owns needs root")
			}
			path := filepath.Join(t.TempDir(), "tokens.json")
			lock := path + ".lock"
			if err := os.WriteFile(lock, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(lock, tt.mode); err != nil {
				t.Fatal(err)
			}
			if tt.owner >= 0 {
				if err := os.Chown(lock, tt.owner, tt.owner); err != nil {
					t.Fatal(err)
				}
			}
			err := tokensfile.Update(context.Background(), path, func() { t.Error("waited") }, func(*tokensfile.Tx) error { return nil })
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *tokensfile.Error
			if !errors.Is(err, tokensfile.ErrUnsafeLock) || !errors.As(err, &fe) || !strings.Contains(err.Error(), lock) ||
				!strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v", err)
			}
		})
	}
}
