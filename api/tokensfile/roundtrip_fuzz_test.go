package tokensfile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/iqm-finland/authschema/api/tokens"
	"github.com/iqm-finland/authschema/api/tokensfile"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// ours are the members the package owns.
var ours = []string{"timestamp", "refresh_status", "access_token", "refresh_token", "auth_server_url", "realm", "client_id"}

// topMembers lists the members of a JSON object in order, values byte for byte; ok
// is false when data is not one.
func topMembers(data []byte) (keys []string, raws []string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		k, isKey := tok.(string)
		var raw json.RawMessage
		if err != nil || !isKey || dec.Decode(&raw) != nil {
			return nil, nil, false
		}
		keys, raws = append(keys, k), append(raws, string(raw))
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, nil, false
	}
	return keys, raws, true
}

// FuzzTokensFileRoundTrip writes a tokens file over an existing one (old, with
// members of any name and type) and reads it back: reading old never panics; the
// written file reads back exactly as written; every member of old that is not ours
// and whose name does not fold to ours is kept byte for byte and in order, and none
// that folds to ours (or a second copy of ours) is.
func FuzzTokensFileRoundTrip(f *testing.F) {
	for _, tt := range parseCases {
		f.Add([]byte(tt.body), "acc", "ref", "https://auth.example", "cortex", "iqm_client", "SUCCESS")
	}
	f.Add([]byte(`{"pid": 4242, "timestamp": "2026-11-27T12:00:00.123456", "refresh_status": "SUCCESS", "access_token": "a",
 "refresh_token": "r", "auth_server_url": "https://auth.example", "extra": {"b": [1, 2.50, "x"], "a": null}}`), "a", "", "", "", "", "")
	f.Add([]byte(`{"refreſh_token": "x", "\u212aey": 1, "Pid": true, "PID": "1"}`), "eyJ.e30.x", "r", "http://[::1]:8080", "", "", "FAILED")
	f.Add([]byte(`not json`), "", "r", "", "", "", "")
	f.Fuzz(func(t *testing.T, old []byte, access, refresh, server, realm, clientID, status string) {
		_, _ = tokensfile.Parse("old.json", old) // never panics
		in := tokensfile.File{Timestamp: t0, RefreshStatus: status, AuthServerURL: server, Realm: realm, ClientID: clientID,
			Tokens: tokens.New(access, refresh)}
		data, err := tokensfile.Encode("tokens.json", old, in)
		if access == "" || !tokens.ValidBearer(access) || (refresh != "" && !tokens.ValidBearer(refresh)) {
			if !errors.Is(err, tokensfile.ErrMalformed) {
				t.Fatalf("no access token, or not a bearer token: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := tokensfile.Parse("tokens.json", data)
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		exact := true
		for _, s := range []string{access, refresh, server, realm, clientID, status} {
			exact = exact && utf8.ValidString(s) // json replaces invalid UTF-8
		}
		if exact && (out.Tokens.AccessToken() != access || out.Tokens.RefreshToken() != refresh || out.AuthServerURL != server ||
			out.Realm != realm || out.ClientID != clientID || out.RefreshStatus != status || !out.Timestamp.Equal(t0)) {
			t.Fatalf("read back %v, wrote %v", testsafe.Value(out), in)
		}
		keys, raws, ok := topMembers(data)
		if !ok {
			t.Fatal("not a JSON object")
		}
		seen := map[string]bool{}
		var kept []string
		for i, k := range keys {
			for _, o := range ours {
				if k != o && strings.EqualFold(k, o) {
					t.Fatalf("kept a member whose name folds to %s", o)
				}
			}
			if isOurs(k) {
				if seen[k] {
					t.Fatalf("%s twice", k)
				}
				seen[k] = true
				continue
			}
			kept = append(kept, k+"\x00"+raws[i])
		}
		oldKeys, oldRaws, _ := topMembers(old)
		var want []string
		for i, k := range oldKeys {
			folds := false
			for _, o := range ours {
				folds = folds || strings.EqualFold(k, o)
			}
			if !folds {
				want = append(want, k+"\x00"+oldRaws[i])
			}
		}
		if strings.Join(kept, "\x01") != strings.Join(want, "\x01") {
			t.Fatalf("foreign members %q, want %q", kept, want)
		}
	})
}

func isOurs(k string) bool {
	for _, o := range ours {
		if k == o {
			return true
		}
	}
	return false
}
