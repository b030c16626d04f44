//go:build !unix

package tokensfile

import (
	"context"
	"os"
)

func openNoBlock(path string) (*os.File, error) { return os.Open(path) }

// lockFile does not lock where flock is missing: processes sharing a tokens file there
// are not kept apart.
func lockFile(ctx context.Context, path, lockPath string, onWait func()) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Path: path, Problem: "stopped before taking its lock", Err: err}
	}
	return func() {}, nil
}

// fileOwner is unknown where there are no unix owners.
func fileOwner(os.FileInfo) (uid int, ok bool) { return 0, false }
