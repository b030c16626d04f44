package authclient

import (
	"testing"
	"time"
)

// TestSourceFromEnvTimeout: IQM_CLIENT_REQUESTS_TIMEOUT, when set, wins over the
// given Config's Timeout; otherwise that Timeout is kept.
func TestSourceFromEnvTimeout(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{"IQM_AUTH_SERVER": "http://127.0.0.1:1", "IQM_AUTH_USERNAME": "u", "IQM_AUTH_PASSWORD": "p"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tt := range []struct {
		name string
		env  func(string) string
		want time.Duration
	}{
		{"from the environment", env("IQM_CLIENT_REQUESTS_TIMEOUT", "2.5"), 2500 * time.Millisecond},
		{"of the given config", env(), time.Hour},
	} {
		src, err := SourceFromEnv(tt.env, SourceOptions{Config: Config{Timeout: time.Hour}})
		if g, ok := src.(*Grants); err != nil || !ok || g.client.timeout != tt.want {
			t.Errorf("%s: %v, %v", tt.name, src, err)
		}
	}
}
