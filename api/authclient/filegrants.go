package authclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/internal/redact"
)

// FileGrants keeps the tokens of a tokens file that this program owns (say, one that
// iqmauth login wrote) and that other processes share: each renewal is one critical
// section across processes (tokensfile.Lock). Under the lock it reads the file again,
// takes the tokens another process renewed while it waited, and otherwise renews them
// as Grants does, with the file's auth_server_url, realm and client_id, and writes them
// back (keeping the members it does not own). So ten processes that all find the
// token near expiry send one refresh request, also against a server that rotates
// refresh tokens.
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
}

// FileLock configures how a FileGrants waits for the file's lock.
type FileLock struct {
	// Timeout bounds the wait; 0 means the context's deadline, else DefaultLockTimeout.
	Timeout time.Duration
	// OnWait, if set, runs when the lock is found taken, before waiting.
	OnWait func()
}

// NewFileGrants reads the tokens file at path and checks it: it must have an
// auth_server_url that cfg allows. cfg's Realm and ClientID are not used (the file's
// are); its HTTPClient, UserAgent, Timeout, AllowInsecureHTTP and Clock are. username
// and password, when set, let a renewal log in again when the refresh token is gone:
// then cfg.ServerURL must name the server the password is for, and the file's
// auth_server_url must be that server (checked again at every renewal, since another
// process may replace the file); otherwise it is a *ConfigError wrapping
// ErrServerMismatch, and nothing is sent.
func NewFileGrants(path string, cfg Config, username, password string, lock FileLock) (*FileGrants, error) {
	g := &FileGrants{path: path, cfg: cfg, username: username, password: redact.New(password), lock: lock}
	f, err := tokensfile.Read(path)
	if err != nil {
		return nil, err
	}
	if _, err := g.grants(f); err != nil {
		return nil, err
	}
	return g, nil
}

// Path is the tokens file.
func (g *FileGrants) Path() string { return g.path }

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
	if !g.password.IsZero() {
		if err := g.passwordServer(c.ServerURL()); err != nil {
			return nil, err
		}
	}
	return NewGrants(c, g.username, g.password.Reveal()), nil
}

// ErrServerMismatch is wrapped by the configuration error of a FileGrants with a
// password whose tokens file names another server than the one the password is for.
var ErrServerMismatch = errors.New("the tokens file names another server than the password is for")

// passwordServer checks that the file's server (normalized) is the one the caller
// named for the password.
func (g *FileGrants) passwordServer(fileServer string) error {
	if g.cfg.ServerURL == "" {
		return &ConfigError{Setting: "server URL", Err: ErrServerMismatch,
			Problem: "is required with a password: a password goes only to a server named for it, never to one read from a tokens file"}
	}
	named, err := normalizeServerURL(g.cfg.ServerURL, g.cfg.AllowInsecureHTTP)
	if err != nil {
		return err
	}
	if named != fileServer {
		return &ConfigError{Setting: "tokens file " + g.path, Err: ErrServerMismatch,
			Problem: fmt.Sprintf("names the server %s, not %s, which the password is for; refusing to send the password there", fileServer, named)}
	}
	return nil
}

// locked runs fn on the file's content with its lock held.
func (g *FileGrants) locked(ctx context.Context, fn func(l *tokensfile.Locked, f tokensfile.File, gr *Grants) error) error {
	lockCtx := ctx
	if g.lock.Timeout > 0 {
		var cancel context.CancelFunc
		lockCtx, cancel = context.WithTimeout(ctx, g.lock.Timeout)
		defer cancel()
	}
	l, err := tokensfile.Lock(lockCtx, g.path, g.lock.OnWait)
	if err != nil {
		return err
	}
	defer l.Unlock()
	f, err := l.Read()
	if err != nil {
		return err
	}
	gr, err := g.grants(f)
	if err != nil {
		return err
	}
	return fn(l, f, gr)
}

// update renews the file's tokens with its lock held: fresh, if set, says whether the
// file's tokens do without a request; else, once the file is known to be writable
// (tokensfile.Locked.Prepare: a rotated refresh token that cannot be saved ends the
// session), get renews them, and they are written back into the file, keeping the
// members it does not own. A refresh token the server refuses (invalid_grant) is
// recorded as refresh_status FAILED.
func (g *FileGrants) update(ctx context.Context, fresh func(f tokensfile.File) bool, get func(f tokensfile.File, gr *Grants) (tokens.Set, error)) (t tokens.Set, err error) {
	err = g.locked(ctx, func(l *tokensfile.Locked, f tokensfile.File, gr *Grants) error {
		if fresh != nil && fresh(f) {
			t = f.Tokens
			return nil
		}
		if err := l.Prepare(); err != nil {
			return err
		}
		if t, err = get(f, gr); err != nil {
			if errors.Is(err, api.ErrInvalidGrant) && f.RefreshStatus != "FAILED" {
				// The refresh token was refused: record it as the Cortex CLI's token
				// manager does (status shows it), keeping the tokens. The write was
				// prepared; a failure to record does not hide the refusal.
				f.RefreshStatus = "FAILED"
				_ = l.Commit(f)
			}
			return err
		}
		f.Tokens, f.RefreshStatus, f.Timestamp = t, "SUCCESS", time.Time{}
		return l.Commit(f)
	})
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
// file (and any temporary file of it left behind); on failure the file is kept. When
// the folder cannot be written to (no temporary file can be made there), nothing is
// sent.
func (g *FileGrants) Logout(ctx context.Context, _ tokens.Set) error {
	return g.locked(ctx, func(l *tokensfile.Locked, f tokensfile.File, gr *Grants) error {
		// A folder that cannot be written to would keep the file of an ended session.
		if err := l.Prepare(); err != nil {
			return err
		}
		if err := gr.Logout(ctx, f.Tokens); err != nil {
			return err
		}
		return l.Remove()
	})
}

// String names the file and the user the source logs in as, and whether it has a
// password (the Session's String shows it).
func (g FileGrants) String() string {
	return fmt.Sprintf("FileGrants{path:%q username:%q password:%v}", g.path, g.username, g.password)
}
