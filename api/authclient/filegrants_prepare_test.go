package authclient_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/authtest"
	"github.com/iqm-finland/authschema/validate"
)

// TestFileGrantsSendNothingWhenFileCannotBeWritten: FileGrants checks that the renewed
// tokens can be saved (their temporary file made) before it sends a request (and
// that the file can be removed before it logs out): against
// a server that rotates refresh tokens, a refresh whose answer is lost ends the
// session. Here the temporary file's name (".<name>.<random>.tmp") is too long for
// the file system while the tokens file's own name is not, which fails for root too;
// it stands for a folder the user cannot write to.
func TestFileGrantsSendNothingWhenFileCannotBeWritten(t *testing.T) {
	clock := authtest.NewClock(t0)
	srv := authtest.Start(t, authtest.WithClock(clock), authtest.WithRotation(), authtest.WithUser(canaryUser, canaryPassword))
	c := newClient(t, srv.URL, func(cfg *authclient.Config) { cfg.Clock = clock })
	tk, err := c.Login(context.Background(), canaryUser, canaryPassword)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), strings.Repeat("t", 245)+".json") // 250 bytes; its temporary file's name is over 255
	data, _ := json.Marshal(map[string]string{"access_token": tk.AccessToken(), "refresh_token": tk.RefreshToken(), "auth_server_url": srv.URL})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	g := authclient.NewFileGrants(path, authclient.Config{ServerURL: srv.URL, Clock: clock}, canaryUser, canaryPassword, authclient.FileLock{})
	srv.ResetRequests()
	clock.Advance(290 * time.Second)
	r := authclient.Renewal{Current: *tk, Now: clock.Now(), ValidUntil: clock.Now().Add(authclient.DefaultRefreshMargin)}
	if _, err := g.Renew(context.Background(), r); err == nil || !strings.Contains(err.Error(), "cannot create a temporary file") {
		t.Errorf("Renew: %v", err)
	}
	if _, err := g.Refresh(context.Background(), r); err == nil {
		t.Error("Refresh: no error")
	}
	if _, err := g.Login(context.Background()); err == nil {
		t.Error("Login: no error")
	}
	if err := g.Logout(context.Background(), *tk); err == nil {
		t.Error("Logout: no error")
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Fatalf("sent %d requests", len(reqs))
	}
	// The session is intact: its refresh token still works.
	if _, err := c.Refresh(context.Background(), tk.RefreshToken()); err != nil {
		t.Errorf("the session was lost: %v", err)
	}
	if reqs := srv.Requests(); len(reqs) != 1 || reqs[0].Kind != validate.KindRefresh || reqs[0].Status != 200 {
		t.Errorf("requests %v", reqs)
	}
	if f, err := tokensfile.Read(path); err != nil || f.Tokens.AccessToken() != tk.AccessToken() {
		t.Errorf("file changed: %v", err)
	}
}
