package tokensfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// parseCases are tokens files whose members differ from ours only in case, repeat, or
// have a type we do not expect; want is what Read must take from them (Python's json:
// keys exactly as written, the last of an exact duplicate). They seed
// FuzzTokensFileRoundTrip too.
var parseCases = []struct {
	name, body string
	want       tokensfile.File // only the settings, RefreshStatus and the tokens are compared
	problem    string          // non-empty: ErrMalformed whose message contains this
}{
	{name: "case-folded keys shadow nothing",
		body: `{"access_token":"mine","auth_server_url":"https://mine.example","AUTH_SERVER_URL":"http://127.0.0.1:39999",
 "Access_Token":"CANARY-theirs","REFRESH_TOKEN":"CANARY-theirs-r","refresh_token":"mine-r","Realm":"evil","ClIeNt_Id":"evil",
 "Refresh_Status":"FAILED","refresh_status":"SUCCESS","Timestamp":"2001-01-01T00:00:00Z"}`,
		want: tokensfile.File{AuthServerURL: "https://mine.example", RefreshStatus: "SUCCESS", Tokens: tokens.New("mine", "mine-r")}},
	{name: "only a case-folded access token",
		body: `{"Access_Token":"CANARY-theirs","auth_server_url":"https://mine.example"}`, problem: "access_token is missing"},
	{name: "exact duplicates: the last wins",
		body: `{"access_token":"first","auth_server_url":"https://first.example","access_token":"last","auth_server_url":"https://last.example"}`,
		want: tokensfile.File{AuthServerURL: "https://last.example", Tokens: tokens.New("last", "")}},
	{name: "escaped key is the key",
		body: `{"access\u005ftoken":"a","realm":"r"}`, want: tokensfile.File{Realm: "r", Tokens: tokens.New("a", "")}},
	{name: "pid of any type is not read",
		body: `{"pid":"4242","access_token":"a"}`, want: tokensfile.File{Tokens: tokens.New("a", "")}},
	{name: "pid object", body: `{"pid":{"x":[1,2]},"access_token":"a","PID":-1.5e300}`, want: tokensfile.File{Tokens: tokens.New("a", "")}},
	{name: "descriptive members of the wrong type are absent",
		body: `{"access_token":"a","timestamp":17,"refresh_status":["SUCCESS"]}`, want: tokensfile.File{Tokens: tokens.New("a", "")}},
	{name: "null settings are absent",
		body: `{"access_token":"a","refresh_token":null,"auth_server_url":null,"realm":null,"client_id":null,"timestamp":null}`,
		want: tokensfile.File{Tokens: tokens.New("a", "")}},
	{name: "null access token", body: `{"access_token":null}`, problem: "access_token is missing"},
	{name: "access token a number", body: `{"access_token":4242}`, problem: "access_token must be a string, not a number"},
	{name: "refresh token an object", body: `{"access_token":"a","refresh_token":{"CANARY":1}}`, problem: "refresh_token must be a string, not an object"},
	{name: "server a boolean", body: `{"access_token":"a","auth_server_url":true}`, problem: "auth_server_url must be a string, not a boolean"},
	{name: "realm an array", body: `{"access_token":"a","realm":["CANARY"]}`, problem: "realm must be a string, not an array"},
	{name: "client id a number", body: `{"access_token":"a","client_id":1234567}`, problem: "client_id must be a string, not a number"},
	{name: "not an object", body: `["access_token","CANARY"]`, problem: "not a JSON object"},
	{name: "syntax", body: `{"access_token":"CANARY" "x":1}`, problem: "invalid JSON at byte"},
}

// TestReadExactKeysAndTypes: Read takes our members by their exact names (a member
// that differs in case is someone else's), the last of exact duplicates, never parses
// pid, treats timestamp and refresh_status of another type as absent, and names a
// member we need that has the wrong type, never its value.
func TestReadExactKeysAndTypes(t *testing.T) {
	dir := t.TempDir()
	for i, tt := range parseCases {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "tokens"+string(rune('a'+i))+".json")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := tokensfile.Read(path)
			if tt.problem != "" {
				if !errors.Is(err, tokensfile.ErrMalformed) || !strings.Contains(err.Error(), tt.problem) || strings.Contains(err.Error(), "CANARY") {
					t.Fatalf("got %v, want ErrMalformed with %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.AuthServerURL != tt.want.AuthServerURL || f.Realm != tt.want.Realm || f.ClientID != tt.want.ClientID ||
				f.RefreshStatus != tt.want.RefreshStatus || f.Tokens.AccessToken() != tt.want.Tokens.AccessToken() ||
				f.Tokens.RefreshToken() != tt.want.Tokens.RefreshToken() || !f.Timestamp.IsZero() {
				t.Errorf("read %v, want %v", f, tt.want)
			}
		})
	}
}

// TestWriteDropsCaseFoldedMembers: a member whose name differs from one of ours only
// in case is not kept (it would shadow ours in a reader that folds case, as Go's
// encoding/json does), nor a second copy of one of ours; every other member is kept
// byte for byte, pid of any type among them.
func TestWriteDropsCaseFoldedMembers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	old := `{"pid": "4242", "AUTH_SERVER_URL": "http://127.0.0.1:39999", "access_token": "old",
 "Access_Token": "CANARY-theirs", "auth_server_url": "https://old.example", "auth_server_url": "https://dup.example",
 "REALM": 1, "Client_ID": null, "TimeStamp": "x", "refresh_STATUS": "x", "Refresh_Token": "CANARY-r",
 "pids": [1], "x_access_token": "kept"}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	in := tokensfile.File{AuthServerURL: "https://new.example", Realm: "cortex", Tokens: tokens.New("new-a", "new-r")}
	if err := tokensfile.Write(context.Background(), path, in); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys, raws, ok := topMembers(data)
	if !ok {
		t.Fatal("not a JSON object")
	}
	for i, k := range keys {
		if k == "pid" && raws[i] != `"4242"` || k == "pids" && raws[i] != `[1]` || k == "x_access_token" && raws[i] != `"kept"` {
			t.Errorf("%s changed to %s", k, raws[i])
		}
	}
	want := "pid access_token auth_server_url pids x_access_token timestamp refresh_token realm"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("members %q, want %q", testsafe.Text(got), want)
	}
	if strings.Contains(string(data), "CANARY") || strings.Contains(string(data), "39999") {
		t.Error("a shadowing member was kept")
	}
	f, err := tokensfile.Read(path)
	if err != nil || f.AuthServerURL != in.AuthServerURL || f.Tokens.AccessToken() != "new-a" || f.Tokens.RefreshToken() != "new-r" {
		t.Errorf("read back %v, %v", f, err)
	}
}

// TestReadRefusesTokensThatAreNotBearerTokens: a token with control characters (that
// would drive a terminal or forge a header line) is refused where every reader passes,
// naming the member, never showing the value.
func TestReadRefusesTokensThatAreNotBearerTokens(t *testing.T) {
	for name, body := range map[string]string{
		"access":  `{"access_token":"ok.CANARY\u001b]0;title\u0007","auth_server_url":"https://a.example"}`,
		"refresh": `{"access_token":"ok","refresh_token":"r\nX-Forged: CANARY","auth_server_url":"https://a.example"}`,
	} {
		_, err := tokensfile.Parse("tokens.json", []byte(body))
		if !errors.Is(err, tokensfile.ErrMalformed) || !strings.Contains(err.Error(), name+"_token has characters") || strings.Contains(err.Error(), "CANARY") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
