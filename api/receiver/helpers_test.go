package receiver_test

import (
	"encoding/json"

	"os"
	"testing"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/internal/testtime"
)

// newClient makes a client, failing the test when it cannot.
func newClient(t testing.TB, cfg authclient.Config) *authclient.Client {
	t.Helper()
	c, err := authclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const canaryPassword = "CANARY-PASS-3b9f"

var t0 = testtime.Epoch()

// formSeeds are the form bodies of the golden vectors (api/testdata/vectors.json),
// with a few malformed ones, as seeds for the fuzz targets.
func formSeeds(t testing.TB) [][]byte {
	t.Helper()
	data, err := os.ReadFile("../testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []struct {
		Form string `json:"form"`
	}
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	var forms [][]byte
	for _, v := range vs {
		forms = append(forms, []byte(v.Form))
	}
	return append(forms, []byte("client_id=a&client_id=b"), []byte("a=%zz"), []byte("&"), []byte("x"))
}
