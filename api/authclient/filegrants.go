package authclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/internal/redact"
)

// FileGrants keeps the tokens of a tokens file that this program owns (say, one that
// iqmauth login wrote) and that other processes share: each renewal is one critical
// section across processes (tokensfile.Update), in which the file is read once. Under
// the lock it takes the tokens another process renewed while it waited, and otherwise
// renews them as Grants does, with the file's auth_server_url, realm and client_id,
// and writes them back (keeping the members it does not own). So ten processes that
// all find the token near expiry send one refresh request, also against a server that
// rotates refresh tokens.
//
// The file's auth_server_url is data, not something the user typed: a plain http://
// URL to a host that is not loopback is refused (ErrInsecureTransport) unless
// cfg.AllowInsecureHTTP is set, before anything is sent; and a password goes only to
// the server the caller named for it (cfg.ServerURL), never to one read from the file
// (ErrServerMismatch).
type FileGrants struct {
	path     string
	cfg      Config
	username string
	password redact.Secret
	lock     FileLock
	server   atomic.Pointer[string] // the file's server as last read under the lock
}

// FileLock configures how a FileGrants waits for the file's lock.
type FileLock struct {
	// Timeout bounds the wait; 0 means the context's deadline, else DefaultLockTimeout.
	Timeout time.Duration
	// OnWait, if set, runs when the lock is found taken, before waiting.
	OnWait func()
}

// NewFileGrants makes the source of the tokens file at path. It does no I/O and
// checks nothing that a renewal could do without: the file is read, under its lock, by
// each renewal and by Logout, and checked there, before anything is sent: it must have
// an auth_server_url that cfg allows. cfg's Realm and ClientID are not used (the
// file's are); its HTTPClient, UserAgent, Timeout, AllowInsecureHTTP and Clock are.
// username and password, when set, let a renewal log in again when the refresh token
// is gone: then cfg.ServerURL must name the server the password is for, and the file's
// auth_server_url must be that server (checked at every renewal that sends something,
// since another process may replace the file); otherwise it is a *ConfigError wrapping
// ErrServerMismatch, and nothing is sent.
func NewFileGrants(path string, cfg Config, username, password string, lock FileLock) *FileGrants {
	return &FileGrants{path: path, cfg: cfg, username: username, password: redact.New(password), lock: lock}
}

// ServerURL is the tokens file's auth_server_url (normalized) as the last Logout, or
// the last renewal that sent a request, read it under the lock; empty before the first.
func (g *FileGrants) ServerURL() string {
	if p := g.server.Load(); p != nil {
		return *p
	}
	return ""
}

// grants makes the Grants for the file's server.
func (g *FileGrants) grants(f tokensfile.File) (*Grants, error) {
	if f.AuthServerURL == "" {
		return nil, &tokensfile.Error{Path: g.path, Problem: "has no auth_server_url", Err: tokensfile.ErrMalformed}
	}
	cfg := g.cfg
	cfg.ServerURL, cfg.Realm, cfg.ClientID = f.AuthServerURL, f.Realm, f.ClientID
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	server := c.ServerURL()
	g.server.Store(&server)
	if !g.password.IsZero() {
		named, err := g.passwordServer()
		if err != nil {
			return nil, err
		}
		if named != server {
			return nil, &ConfigError{Setting: "tokens file " + g.path, Err: ErrServerMismatch,
				Problem: fmt.Sprintf("names the server %s, not %s, which the password is for; refusing to send the password there", server, named)}
		}
	}
	return NewGrants(c, g.username, g.password.Reveal()), nil
}

// ErrServerMismatch is wrapped by the configuration error of a FileGrants with a
// password whose tokens file names another server than the one the password is for.
var ErrServerMismatch = errors.New("the tokens file names another server than the password is for")

// passwordServer is the server (normalized) that the caller named for the password.
func (g *FileGrants) passwordServer() (string, error) {
	if g.cfg.ServerURL == "" {
		return "", &ConfigError{Setting: "server URL", Err: ErrServerMismatch,
			Problem: "is required with a password: a password goes only to a server named for it, never to one read from a tokens file"}
	}
	return normalizeServerURL(g.cfg.ServerURL, g.cfg.AllowInsecureHTTP)
}

// locked runs fn on the file's content in one tokensfile.Update: with its lock held,
// the file read once.
func (g *FileGrants) locked(ctx context.Context, fn func(tx *tokensfile.Tx, f tokensfile.File) error) error {
	lockCtx := ctx // bounds the wait for the lock only; fn's requests use ctx
	if g.lock.Timeout > 0 {
		var cancel context.CancelFunc
		lockCtx, cancel = context.WithTimeout(ctx, g.lock.Timeout)
		defer cancel()
	}
	// A file that is not there is reported as a read reports it, before Update makes
	// its folder and lock file (a mistyped path leaves nothing behind).
	if _, err := os.Lstat(g.path); err != nil {
		if _, err := tokensfile.Read(g.path); err != nil {
			return err
		}
	}
	return tokensfile.Update(lockCtx, g.path, g.lock.OnWait, func(tx *tokensfile.Tx) error {
		f, err := tx.File()
		if err != nil {
			return err
		}
		return fn(tx, f)
	})
}

// update renews the file's tokens with its lock held: fresh, if set, says whether the
// file's tokens do without a request (then the file need not name a server); else,
// once the file is known to be writable (tokensfile.Tx.Prepare: a rotated refresh
// token that cannot be saved ends the session), get renews them, and they are written
// back into the file, keeping the members it does not own. A refresh token the server
// refuses (invalid_grant) is recorded as refresh_status FAILED.
func (g *FileGrants) update(ctx context.Context, fresh func(f tokensfile.File) bool, get func(f tokensfile.File, gr *Grants) (tokens.Set, error)) (t tokens.Set, err error) {
	var refused error
	err = g.locked(ctx, func(tx *tokensfile.Tx, f tokensfile.File) error {
		if fresh != nil && fresh(f) {
			t = f.Tokens
			return nil
		}
		gr, err := g.grants(f)
		if err != nil {
			return err
		}
		if err := tx.Prepare(); err != nil {
			return err
		}
		if t, err = get(f, gr); err != nil {
			if !errors.Is(err, api.ErrInvalidGrant) || f.RefreshStatus == "FAILED" {
				return err
			}
			// The refresh token was refused: record it as the Cortex CLI's token
			// manager does (status shows it), keeping the tokens. The write was
			// prepared; a failure to record does not hide the refusal.
			refused = err
			f.RefreshStatus = "FAILED"
			tx.Write(f)
			return nil
		}
		f.Tokens, f.RefreshStatus, f.Timestamp = t, "SUCCESS", time.Time{}
		tx.Write(f)
		return nil
	})
	if refused != nil {
		return tokens.Set{}, refused
	}
	return t, err
}

// Renew implements Source. The file's tokens are used without a request when they are
// not r.Current (another process renewed them, or this is the first use) and
// r.Fresh finds them fresh.
func (g *FileGrants) Renew(ctx context.Context, r Renewal) (tokens.Set, error) {
	fresh := func(f tokensfile.File) bool {
		ft := f.Tokens
		return ft.AccessToken() != r.Current.AccessToken() && r.Fresh(ft)
	}
	return g.update(ctx, fresh, func(f tokensfile.File, gr *Grants) (tokens.Set, error) {
		return gr.Renew(ctx, Renewal{Current: f.Tokens, Now: r.Now, ValidUntil: r.ValidUntil})
	})
}

// Refresh renews the file's tokens with the refresh_token grant now.
func (g *FileGrants) Refresh(ctx context.Context, r Renewal) (tokens.Set, error) {
	return g.update(ctx, nil, func(f tokensfile.File, gr *Grants) (tokens.Set, error) {
		return gr.Refresh(ctx, Renewal{Current: f.Tokens, Now: r.Now, ValidUntil: r.ValidUntil})
	})
}

// Login logs in with the password grant now and writes the tokens into the file.
func (g *FileGrants) Login(ctx context.Context) (tokens.Set, error) {
	return g.update(ctx, nil, func(_ tokensfile.File, gr *Grants) (tokens.Set, error) {
		return gr.Login(ctx)
	})
}

// Logout ends the session of the file's refresh token at the server and removes the
// file (and any temporary file of it left behind), all under the lock, reading the
// file once; the tokens passed are not used (another process may have renewed the
// file's). On failure the file is kept. When the folder cannot be written to (no
// temporary file can be made there), nothing is sent.
func (g *FileGrants) Logout(ctx context.Context, _ tokens.Set) error {
	return g.locked(ctx, func(tx *tokensfile.Tx, f tokensfile.File) error {
		gr, err := g.grants(f)
		if err != nil {
			return err
		}
		// A folder that cannot be written to would keep the file of an ended session.
		if err := tx.Prepare(); err != nil {
			return err
		}
		if err := gr.Logout(ctx, f.Tokens); err != nil {
			return err
		}
		tx.Remove()
		return nil
	})
}

// String names the file and the user the source logs in as, and whether it has a
// password (the Session's String shows it).
func (g *FileGrants) String() string {
	return fmt.Sprintf("FileGrants{path:%q username:%q password:%v}", g.path, g.username, g.password)
}
