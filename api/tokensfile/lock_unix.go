//go:build unix

package tokensfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// openNoBlock opens path for reading without blocking: opening a FIFO for reading
// would otherwise wait for a writer.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// lockFile takes an exclusive flock on lockPath (created with mode 0600; a symlink is
// not followed; one that another user owns or others may open is refused), polling until it is free or ctx ends. onWait, if set, runs once when
// the lock is found taken.
func lockFile(ctx context.Context, path, lockPath string, onWait func()) (func(), error) {
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, &Error{Path: path, Problem: "cannot open its lock file " + lockPath + ": " + errorCause(err), Err: errors.Join(ErrCannotLock, err)}
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, &Error{Path: path, Problem: "its lock file " + lockPath + " is not a regular file", Err: ErrNotRegular}
	}
	if problem := lockFileProblem(lockPath, st); problem != "" {
		f.Close()
		return nil, &Error{Path: path, Problem: problem, Err: ErrUnsafeLock}
	}
	fd := int(f.Fd())
	delay := 2 * time.Millisecond
	for waited := false; ; waited = true {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(fd, syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, &Error{Path: path, Problem: "cannot lock " + lockPath + ": " + err.Error(), Err: err}
		}
		if !waited && onWait != nil {
			onWait()
		}
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			f.Close()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, &Error{Path: path, Err: errors.Join(ErrLockTimeout, ctx.Err()),
					Problem: "timed out waiting for its lock " + lockPath + ", held by another process"}
			}
			return nil, &Error{Path: path, Problem: "stopped waiting for its lock " + lockPath, Err: ctx.Err()}
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// lockFileProblem says why another local user could hold the lock file st (opened
// from lockPath) and so block every process of ours: it is theirs, or they may open
// it (flock needs only a descriptor opened for reading). Empty: it is safe.
func lockFileProblem(lockPath string, st os.FileInfo) string {
	if uid, ok := fileOwner(st); ok && uid != os.Geteuid() {
		return fmt.Sprintf("its lock file %s is owned by uid %d, not by you (uid %d), who could hold it and block you; "+
			"if the folder is yours, remove the lock file (rm %s), else use a tokens file in a folder only you can write to (--tokens-file)",
			lockPath, uid, os.Geteuid(), lockPath)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Sprintf("its lock file %s may be opened by others (mode %04o), who could hold it and block you; run: chmod 600 %s",
			lockPath, perm, lockPath)
	}
	return ""
}

// fileOwner is the uid that owns a file.
func fileOwner(st os.FileInfo) (uid int, ok bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(sys.Uid), true
}
