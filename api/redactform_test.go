package api_test

import (
	"testing"

	"github.com/iqm-finland/authschema/api"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

func TestRedactForm(t *testing.T) {
	for in, want := range map[string]string{
		"client_id=iqm_client&grant_type=password&username=alice&password=pw": "client_id=iqm_client&grant_type=password&username=alice&password=[REDACTED]",
		"client_id=a&refresh_token=x&client_secret=y":                         "client_id=a&refresh_token=[REDACTED]&client_secret=[REDACTED]",
		"client_id=a&refresh_token=CANA&rytail=1":                             "client_id=a&refresh_token=[REDACTED]&[REDACTED]=[REDACTED]",
		"client_id=a&scope=openid&Zx-9=1":                                     "client_id=a&scope=[REDACTED]&[REDACTED]=[REDACTED]",
		"eyJsecret&client_id=a":                                               "[REDACTED]&client_id=a",
		"client%zz=1&username=%zz":                                            "[MALFORMED]&username=[MALFORMED]",
		"":                                                                    "",
	} {
		if got := api.RedactForm([]byte(in)); got != want {
			t.Errorf("%q: %q, want %q", in, testsafe.Text(got), want)
		}
	}
}
