package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// iqmauthBin is the command, built once for the tests that run it as a process.
var iqmauthBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "iqmauth-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	iqmauthBin = filepath.Join(dir, "iqmauth")
	if out, err := exec.Command("go", "build", "-o", iqmauthBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the command: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

const canary = "CANARY-7c1d"

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		stdout   string
		problems []string // each stderr line starts with one of these, in order
	}{
		{"password form", []string{"validate"}, "client_id=iqm_client&grant_type=password&username=u&password=" + canary + "\n", 0, "password\n", nil},
		{"refresh json", []string{"validate"}, `  {"client_id":"iqm_client","grant_type":"refresh_token","refresh_token":"` + canary + `"}`, 0, "refresh\n", nil},
		{"logout forced form", []string{"validate", "--format", "form"}, "client_id=iqm_client&refresh_token=" + canary, 0, "logout\n", nil},
		{"kind flag", []string{"validate", "--kind", "logout"}, "client_id=iqm_client&grant_type=refresh_token&refresh_token=" + canary, 1, "", []string{"grant_type: "}},
		{"every problem", []string{"validate"}, `{"grant_type":"refresh_token","password":"` + canary + `"}`, 1, "",
			[]string{"client_id: ", "password: ", "refresh_token: "}},
		{"unknown key", []string{"validate"}, "client_id=a&secret_" + canary + "=x", 1, "", []string{"body: unknown field"}},
		{"unknown name", []string{"validate"}, "client_id=a&scope=openid", 1, "", []string{`"scope": unknown field`}},
		{"stray & in a password", []string{"validate"}, "client_id=a&grant_type=password&username=u&password=ab&" + canary + "=1", 1, "", []string{"body: unknown field"}},
		{"duplicate", []string{"validate"}, "client_id=a&password=" + canary + "&password=" + canary, 1, "", []string{"password: "}},
		{"bad json", []string{"validate", "--format", "json"}, `{"password":"` + canary, 1, "", []string{"password: "}},
		{"too large", []string{"validate"}, "client_id=a&refresh_token=" + strings.Repeat("x", 70000), 1, "", []string{"body: "}},
		{"unknown grant", []string{"validate"}, "client_id=a&grant_type=" + canary, 1, "", []string{"grant_type: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.stdin, tt.args...)
			if code != tt.code || stdout != tt.stdout {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if tt.problems == nil {
				if stderr != "" {
					t.Errorf("stderr %q", stderr)
				}
			} else if len(lines) != len(tt.problems) {
				t.Fatalf("stderr lines %q, want %d", lines, len(tt.problems))
			}
			for i, p := range tt.problems {
				if !strings.HasPrefix(lines[i], p) {
					t.Errorf("line %q does not start with %q", lines[i], p)
				}
			}
			// No value ever shows, nor a key that may be part of one.
			if strings.Contains(stdout+stderr, canary) {
				t.Errorf("output shows a value: %q %q", stdout, stderr)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		out  string // "stdout" or "stderr": where the usage goes
	}{
		{nil, 2, "stderr"},
		{[]string{"help"}, 0, "stdout"},
		{[]string{"--help"}, 0, "stdout"},
		{[]string{"validate", "--help"}, 0, "stdout"},
		{[]string{"nope"}, 2, "stderr"},
		{[]string{"validate", "--format", "xml"}, 2, "stderr"},
		{[]string{"validate", "--kind", "client"}, 2, "stderr"},
		{[]string{"validate", "--bogus"}, 2, "stderr"},
		{[]string{"validate", "extra"}, 2, "stderr"},
	} {
		code, stdout, stderr := runCLI(t, "", tt.args...)
		got := stdout
		if tt.out == "stderr" {
			got = stderr
		}
		if code != tt.code || !strings.Contains(got, "usage: iqmauth") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tt.args, code, stdout, stderr)
		}
	}
}

// TestBinary runs the real command once, as a user would.
func TestBinary(t *testing.T) {
	bin := iqmauthBin
	cmd := exec.Command(bin, "validate")
	cmd.Stdin = strings.NewReader("client_id=iqm_client&refresh_token=" + canary)
	out, err := cmd.Output()
	if err != nil || string(out) != "logout\n" {
		t.Fatalf("validate: %q, %v", out, err)
	}
	cmd = exec.Command(bin, "validate")
	cmd.Stdin = strings.NewReader("client_id=iqm_client&username=" + canary)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("invalid request: %v", err)
	}
	if strings.Contains(stderr.String(), canary) || !strings.HasPrefix(stderr.String(), "username: ") {
		t.Fatalf("stderr %q", stderr.String())
	}
}
