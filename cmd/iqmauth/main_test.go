package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/iqm-finland/authschema/internal/testsafe"
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
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" },
		ctx: context.Background()}
	code = c.run(args)
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
				t.Fatalf("exit %d, stdout %q, stderr %q", code, testsafe.Text(stdout), testsafe.Text(stderr))
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if tt.problems == nil {
				if stderr != "" {
					t.Errorf("stderr %q", testsafe.Text(stderr))
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
				t.Errorf("output shows a value: %q %q", testsafe.Text(stdout), testsafe.Text(stderr))
			}
		})
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		if code, stdout, stderr := runCLI(t, "", args...); code != 0 || !strings.Contains(stdout, "usage: iqmauth") || stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, testsafe.Text(stdout), testsafe.Text(stderr))
		}
	}
	if code, stdout, stderr := runCLI(t, ""); code != 2 || stdout != "" || !strings.Contains(stderr, "usage: iqmauth") {
		t.Errorf("no command: exit %d, stdout %q, stderr %q", code, testsafe.Text(stdout), testsafe.Text(stderr))
	}
	// A mistake is one line saying what is wrong, plus where to read more.
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"validate", "--format", "xml"}, "--format must be auto, form or json"},
		{[]string{"validate", "--kind", "client"}, "--kind must be password, refresh or logout"},
		{[]string{"validate", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"validate", "extra"}, `unexpected argument "extra"`},
		{[]string{"token", "--min-valid", "soon"}, "invalid value"},
		{[]string{"spec", "--format", "xml"}, "--format must be yaml or json"},
	} {
		code, stdout, stderr := runCLI(t, "", tt.args...)
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		if code != 2 || stdout != "" || len(lines) != 2 || !strings.Contains(lines[0], tt.msg) || !strings.Contains(lines[1], "help") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tt.args, code, testsafe.Text(stdout), testsafe.Text(stderr))
		}
	}
}

// TestHelpOnceToStdout: every command's --help prints its usage once, to stdout, and
// exits 0.
func TestHelpOnceToStdout(t *testing.T) {
	for _, cmd := range []string{"validate", "login", "token", "status", "logout", "serve", "demo", "spec"} {
		for _, flag := range []string{"--help", "-h"} {
			code, stdout, stderr := runCLI(t, "", cmd, flag)
			if code != 0 || stderr != "" || strings.Count(stdout, "usage: iqmauth "+cmd) != 1 {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q", cmd, flag, code, testsafe.Text(stdout), testsafe.Text(stderr))
			}
		}
	}
}

// TestCommandLinksNoTesting: the command links no testing package (authtest does not
// need testing.TB to start a server).
func TestCommandLinksNoTesting(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || strings.HasPrefix(pkg, "testing/") {
			t.Errorf("the command links %s", pkg)
		}
	}
}

// TestSpecCommand: iqmauth spec writes openapi.yaml of this version, to stdout or a
// file, and its JSON form.
func TestSpecCommand(t *testing.T) {
	file, err := os.ReadFile("../../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := runCLI(t, "", "spec"); code != 0 || stdout != string(file) {
		t.Errorf("spec: exit %d, %d bytes", code, len(stdout))
	}
	out := filepath.Join(t.TempDir(), "authschema.yaml")
	if code, _, stderr := runCLI(t, "", "spec", "-o", out); code != 0 {
		t.Fatalf("spec -o: %d %s", code, testsafe.Text(stderr))
	}
	if got, err := os.ReadFile(out); err != nil || string(got) != string(file) {
		t.Errorf("spec -o wrote %d bytes, %v", len(got), err)
	}
	code, stdout, _ := runCLI(t, "", "spec", "--format", "json")
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil || doc["openapi"] != "3.0.3" {
		t.Errorf("spec --format json: exit %d, %.80s", code, testsafe.Text(stdout))
	}
}

// TestBinary runs the real command once, as a user would.
func TestBinary(t *testing.T) {
	bin := iqmauthBin
	cmd := exec.Command(bin, "validate")
	cmd.Stdin = strings.NewReader("client_id=iqm_client&refresh_token=" + canary)
	out, err := cmd.Output()
	if err != nil || string(out) != "logout\n" {
		t.Fatalf("validate: %q, %v", testsafe.Value(out), err)
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

// TestNoSecretEchoedInUsageErrors (issue 12, item 12): a command whose flags or
// arguments may hold a secret never echoes a positional argument or a flag's value in
// its mistake message (`iqmauth serve --user alice S3cretPassw0rd`), for every such
// command, also as a real process.
func TestNoSecretEchoedInUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--user", "alice", canary},
		{"serve", "--user=alice:x", canary},
		{"serve", "--access-ttl", canary},
		{"serve", "--rotation=" + canary},
		{"login", "--username", "alice", canary},
		{"login", "--lock-timeout", canary},
		{"token", canary},
		{"token", "--min-valid", canary},
		{"status", canary},
		{"logout", canary},
		{"logout", "--allow-insecure-http=" + canary},
		{"serve", "--" + canary},
		{"login", "-" + canary + "=x"},
	} {
		code, stdout, stderr := runCLI(t, "", args...)
		if code != 2 || stdout != "" || strings.Contains(stderr, canary) || !strings.Contains(stderr, "not shown") {
			t.Errorf("%s: exit %d, stdout %d bytes, stderr has the value: %v (or no 'not shown')", args[0], code, len(stdout), strings.Contains(stderr, canary))
		}
	}
	out, err := exec.Command(iqmauthBin, "serve", "--user", "alice", canary).CombinedOutput()
	if err == nil || strings.Contains(string(out), canary) {
		t.Errorf("iqmauth serve --user alice <password> as a process: err %v, output has the password: %v", err, strings.Contains(string(out), canary))
	}
}
