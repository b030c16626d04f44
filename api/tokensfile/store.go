package tokensfile

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/iqm-finland/authschema/internal/redact"
)

// Update is the one way this package changes a tokens file: it takes the file's lock
// (see below), runs fn with it held, and when fn returns nil does what fn asked of tx
// (Write or Remove); when fn returns an error none of that is done (a temporary file
// that Prepare made is removed; one of a killed writer that tx.File or Prepare
// recovered stays recovered) and Update returns that error. Reading, checking,
// renewing and writing the file is so one critical section across the processes that
// share it, and the file is read at most once (tx.File, when fn first asks for it or
// when a Write needs the members it keeps).
//
// The lock is an flock on the sibling file path+".lock" (created with mode 0600, never
// removed). A lock file that another user owns, or that others may open (and so hold),
// is refused (ErrUnsafeLock). Update waits until the lock is free, ctx ends, or
// DefaultLockTimeout passes when ctx has no deadline; waiting too long is
// ErrLockTimeout. onWait, if set, runs once when the lock is found taken.
func Update(ctx context.Context, path string, onWait func(), fn func(tx *Tx) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultLockTimeout)
		defer cancel()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return &Error{Path: path, Problem: "cannot create its folder: " + errorCause(err), Err: err}
	}
	unlock, err := lockFile(ctx, path, path+".lock", onWait)
	if err != nil {
		return err
	}
	tx := &Tx{path: path}
	defer func() {
		tx.discard()
		unlock()
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.commit()
}

// Write writes f to path (an Update that writes f), atomically and with mode 0600: a
// temporary file in the same folder, written and synced, renamed over path, and the
// folder synced, so that a crash leaves either the old file or the new one. The
// members of the file being replaced that this package does not own (pid, and any
// other) are kept exactly as they were, but for those whose names differ from ours
// only in case (a reader that folds case would take them for ours) and second copies
// of ours, which are dropped. Timestamp defaults to now. Temporary files that a killed
// writer left behind are removed. For a program that writes a tokens file it got
// otherwise (a service handing tokens to a job, a test).
func Write(ctx context.Context, path string, f File) error {
	return Update(ctx, path, nil, func(tx *Tx) error {
		tx.Write(f)
		return nil
	})
}

// Remove removes the tokens file at path and any temporary file of it left behind (an
// Update that removes it, without reading it); a missing file is not an error. For a
// session that has ended at the server, whose tokens are of no use to anyone: a
// logout that the server answers with invalid_grant.
func Remove(ctx context.Context, path string) error {
	return Update(ctx, path, nil, func(tx *Tx) error {
		tx.Remove()
		return nil
	})
}

// Tx is a tokens file whose lock an Update holds, valid only inside its fn.
type Tx struct {
	path   string
	read   *readResult // nil until the file is read
	tmp    *os.File    // made by Prepare, until commit or discard
	next   *File       // staged by Write
	remove bool        // staged by Remove
}

// readResult is the file as an Update read it.
type readResult struct {
	data redact.Secret // the file's content (tokens in full); empty when missing or unreadable
	file File
	err  error
}

// File is the file as read under the lock (see Read), once per Update, after
// recovering the tokens that a writer killed between syncing its temporary file and
// renaming it left behind: the newest temporary file of the file that is a regular
// file owned by this user, a complete tokens file and newer by its timestamp (or the
// file is missing or not a tokens file) replaces the file.
func (tx *Tx) File() (File, error) {
	r := tx.load()
	return r.file, r.err
}

// load reads the file, recovering a newer temporary file, the first time it is called.
func (tx *Tx) load() *readResult {
	if tx.read == nil {
		data, file, err := readRecovering(tx.path)
		tx.read = &readResult{data: redact.New(string(data)), file: file, err: err}
	}
	return tx.read
}

// readRecovering reads path (its content and what it holds), after putting back the
// newest temporary file of it that holds newer tokens (see Tx.File). path is opened
// once; a temporary file only when there is one.
func readRecovering(path string) ([]byte, File, error) {
	data, err := readRegular(path)
	var f File
	if err == nil {
		f, err = parse(path, data)
	}
	if errors.Is(err, ErrNotRegular) {
		return nil, File{}, err // not ours to replace
	}
	var mainTime time.Time
	if err == nil {
		mainTime = f.Timestamp
	}
	best, bestData, bestFile := "", []byte(nil), File{}
	for _, e := range temps(path) {
		st, statErr := e.Info()
		if uid, ok := fileOwner(st); statErr != nil || !st.Mode().IsRegular() || ok && uid != os.Geteuid() {
			continue
		}
		name := filepath.Join(filepath.Dir(path), e.Name())
		td, terr := readRegular(name)
		if terr != nil {
			continue
		}
		if tf, terr := parse(name, td); terr == nil && tf.Timestamp.After(mainTime) {
			best, bestData, bestFile, mainTime = name, td, tf, tf.Timestamp
		}
	}
	if best != "" && os.Chmod(best, 0o600) == nil && os.Rename(best, path) == nil {
		syncDir(filepath.Dir(path))
		return bestData, bestFile, nil
	}
	return data, f, err
}

// Prepare makes sure, before anything is sent whose answer must be written (a rotated
// refresh token is the only one the server takes), that the file can be written: it
// creates the temporary file beside it (mode 0600) that a Write fills and renames over
// it, and reserves room in it (the current file's size and 4 KiB more: a full disk or
// quota fails here), and then removes the temporary files a killed writer left (after
// recovering a complete, newer one: see File). Preparing again does nothing.
func (tx *Tx) Prepare() error {
	if tx.tmp != nil {
		return nil
	}
	r := tx.load() // recover before the stale temporary files go
	dir := filepath.Dir(tx.path)
	tmp, err := os.CreateTemp(dir, tempPrefix(tx.path)+"*"+tempSuffix)
	if err != nil {
		return &Error{Path: tx.path, Problem: "cannot create a temporary file in its folder " + dir + ": " + errorCause(err) +
			"; the folder must be writable to save renewed tokens", Err: err}
	}
	fail := func(problem string, err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return &Error{Path: tx.path, Problem: problem, Err: err}
	}
	if err := tmp.Chmod(0o600); err != nil {
		return fail("cannot set mode 0600: "+errorCause(err), err)
	}
	// Room for the new content: the current file's size and then some (tokens of one
	// server keep their size), so that a full disk or quota fails here, not after.
	if _, err := tmp.Write(make([]byte, len(r.data.Reveal())+reserveBytes)); err != nil {
		return fail("cannot write a temporary file in its folder "+dir+": "+errorCause(err)+
			"; there must be room to save renewed tokens", err)
	}
	tx.tmp = tmp
	removeStaleTemps(tx.path, tmp.Name())
	return nil
}

// Write asks for f to be written (see the package function Write) when fn returns nil;
// it replaces an earlier Write or Remove of the same Update.
func (tx *Tx) Write(f File) { tx.next, tx.remove = &f, false }

// Remove asks for the file and any temporary file of it left behind to be removed when
// fn returns nil; it replaces an earlier Write.
func (tx *Tx) Remove() { tx.next, tx.remove = nil, true }

// commit does what fn asked: nothing, a Write or a Remove.
func (tx *Tx) commit() error {
	switch {
	case tx.remove:
		removeStaleTemps(tx.path, "")
		if err := os.Remove(tx.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return &Error{Path: tx.path, Problem: "cannot remove: " + errorCause(err), Err: err}
		}
		return nil
	case tx.next != nil:
		return tx.write(*tx.next)
	}
	return nil
}

// write writes f into the temporary file that Prepare made (preparing it now if it did
// not), syncs it, renames it over the file and syncs the folder. When the rename fails
// after the new content is synced, the temporary file is left for the next Update to
// recover.
func (tx *Tx) write(f File) error {
	data, err := encode(tx.path, []byte(tx.load().data.Reveal()), f) // keeping the members read
	if err != nil {
		return err
	}
	if err := tx.Prepare(); err != nil {
		return err
	}
	tmp := tx.tmp
	tx.tmp = nil
	synced := false
	fail := func(problem string, err error) error {
		tmp.Close()
		if !synced {
			os.Remove(tmp.Name())
		} else {
			problem += "; the new tokens are kept in " + tmp.Name() + " for the next run to recover"
		}
		return &Error{Path: tx.path, Problem: problem, Err: err}
	}
	if _, err := tmp.WriteAt(data, 0); err != nil {
		return fail("cannot write: "+errorCause(err), err)
	}
	if err := tmp.Truncate(int64(len(data))); err != nil {
		return fail("cannot write: "+errorCause(err), err)
	}
	if err := tmp.Sync(); err != nil {
		return fail("cannot sync: "+errorCause(err), err)
	}
	synced = true
	if err := tmp.Close(); err != nil {
		return fail("cannot close: "+errorCause(err), err)
	}
	if err := os.Rename(tmp.Name(), tx.path); err != nil {
		return fail("cannot replace: "+errorCause(err), err)
	}
	syncDir(filepath.Dir(tx.path))
	return nil
}

// discard removes a temporary file that Prepare made and no write used.
func (tx *Tx) discard() {
	if tx.tmp != nil {
		tx.tmp.Close()
		os.Remove(tx.tmp.Name())
		tx.tmp = nil
	}
}
