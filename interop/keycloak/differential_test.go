package keycloak_test

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// allowFile lists the differences between Keycloak and serve that are accepted, each
// with its reason: `case  field  reason` (in case, * matches any run of characters).
const allowFile = "allowlist.txt"

// envTable names a file to write the whole differential table to (Markdown).
const envTable = "AUTHSCHEMA_KEYCLOAK_TABLE"

type allowEntry struct {
	line         int
	pattern, fld string
	reason       string
	used         bool
	re           *regexp.Regexp
}

// glob turns a case pattern into a regular expression: * matches any run of
// characters (slashes included), everything else itself.
func glob(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

func readAllowList(t *testing.T) []*allowEntry {
	t.Helper()
	f, err := os.Open(allowFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var es []*allowEntry
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Fields(line)
		if len(parts) < 3 {
			t.Errorf("%s:%d: want `case field reason`, the reason is missing", allowFile, n)
			continue
		}
		es = append(es, &allowEntry{line: n, pattern: parts[0], fld: parts[1], reason: strings.Join(parts[2:], " "),
			re: glob(parts[0])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return es
}

func (e *allowEntry) matches(caseName, fieldName string) bool {
	return e.re.MatchString(caseName) && e.fld == fieldName
}

// TestDifferential sends every case to Keycloak and to `iqmauth serve` (started with
// the same realm files) and fails on every difference allowlist.txt does not list,
// and on every entry of allowlist.txt that no longer differs.
func TestDifferential(t *testing.T) {
	needKeycloak(t)
	ctx := testContext(t)
	allow := readAllowList(t)
	kc := &side{name: "keycloak", ctx: ctx, bases: map[string]string{}}
	sv := &side{name: "serve", ctx: ctx, bases: map[string]string{}}
	for realm := range realmFiles {
		kc.bases[realm] = keycloakURL
		sv.bases[realm] = startServe(t, realm).URL
	}
	r := readRealm(t, cortex)
	u := users{alice: r.password(t, "alice"), bob: r.password(t, "bob"), carol: r.password(t, "carol"), dave: r.password(t, "dave")}

	var table, summary strings.Builder
	table.WriteString("| case | field | Keycloak | serve | allowed |\n|---|---|---|---|---|\n")
	summary.WriteString("| case | Keycloak | serve | outcome |\n|---|---|---|---|\n")
	seen := map[string]bool{}
	var same, allowed, failed int
	// Both sides of a case run at once, so that a case waiting for a token to expire
	// waits once; the timed cases start first and wait while the others run.
	both := func(c diffCase) [2][]step {
		var out [2][]step
		var wg sync.WaitGroup
		wg.Go(func() { out[0] = c.run(kc, u) })
		out[1] = c.run(sv, u)
		wg.Wait()
		return out
	}
	timed := make([]chan [2][]step, len(timedCases))
	for i, c := range timedCases {
		timed[i] = make(chan [2][]step, 1)
		go func() { timed[i] <- both(c) }()
	}
	for n, c := range append(slices.Clone(cases), timedCases...) {
		if seen[c.name] {
			t.Errorf("case %s is listed twice", c.name)
		}
		seen[c.name] = true
		var answers [2][]step
		if n < len(cases) {
			answers = both(c)
		} else {
			answers = <-timed[n-len(cases)]
		}
		ks, ss := answers[0], answers[1]
		for i := 0; i < max(len(ks), len(ss)); i++ {
			var k, s step
			if i < len(ks) {
				k = ks[i]
			} else {
				k = step{label: ss[i].label, a: &answer{failed: "(no such step)"}}
			}
			if i < len(ss) {
				s = ss[i]
			} else {
				s = step{label: k.label, a: &answer{failed: "(no such step)"}}
			}
			name := stepName(c, k)
			if k.label != s.label {
				name += "|" + s.label
			}
			ds := compare(k.a, s.a)
			fmt.Fprintf(&summary, "| %s | %s | %s | ", name, cell(brief(k.a)), cell(brief(s.a)))
			if len(ds) == 0 {
				summary.WriteString("same |\n")
				same++
				t.Logf("%-58s same (status %s)", name, statusOf(k.a))
				fmt.Fprintf(&table, "| %s | (all) | %s | same | |\n", name, statusOf(k.a))
				continue
			}
			t.Logf("%-58s DIFFERS", name)
			var fieldsOut []string
			notAllowed := 0
			for _, d := range ds {
				var entry *allowEntry
				for _, e := range allow {
					if e.matches(name, d.field) {
						entry = e
						break
					}
				}
				mark := "NOT ALLOWED"
				if entry != nil {
					entry.used = true
					mark = "allowed (" + allowFile + fmt.Sprintf(":%d)", entry.line)
					allowed++
				} else {
					failed++
				}
				t.Logf("    %-28s keycloak=%s  serve=%s  %s", d.field, clip(d.keycloak), clip(d.serve), mark)
				yes := "no"
				if entry != nil {
					yes = "yes: " + entry.reason
				}
				fmt.Fprintf(&table, "| %s | %s | %s | %s | %s |\n", name, d.field, cell(d.keycloak), cell(d.serve), cell(yes))
				fieldsOut = append(fieldsOut, d.field)
				if entry == nil {
					notAllowed++
					t.Errorf("%s: %s differs: Keycloak %s, serve %s (not in %s)", name, d.field, clip(d.keycloak), clip(d.serve), allowFile)
				}
			}
			outcome := "differs, allowed"
			if notAllowed > 0 {
				outcome = fmt.Sprintf("differs, %d NOT allowed", notAllowed)
			}
			fmt.Fprintf(&summary, "%s: %s |\n", outcome, strings.Join(fieldsOut, ", "))
		}
	}
	for _, e := range allow {
		if !e.used {
			t.Errorf("%s:%d: %s %s no longer differs: remove the entry", allowFile, e.line, e.pattern, e.fld)
		}
	}
	t.Logf("%d steps the same, %d differing fields allowed, %d not allowed", same, allowed, failed)
	if p := os.Getenv(envTable); p != "" {
		doc := "## Every step\n\n" + summary.String() + "\n## The differing fields\n\n" + table.String()
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// brief is an answer's status and OAuth error code, or its body's kind.
func brief(a *answer) string {
	if a.failed != "" {
		return "failed: " + a.failed
	}
	out := fmt.Sprint(a.status)
	for _, f := range a.fields() {
		if (f.name == "error" || f.name == "header.WWW-Authenticate") && f.value != "(absent)" && f.value != "(none)" {
			out += " " + f.value
		}
		if f.name == "error_description" && f.value != "(absent)" {
			out += fmt.Sprintf(" %q", f.value)
		}
		if f.name == "body" && f.value != "json-object" {
			out += " (" + f.value + ")"
		}
	}
	return out
}

func statusOf(a *answer) string {
	if a.failed != "" {
		return "failed: " + a.failed
	}
	return fmt.Sprint(a.status)
}

func clip(s string) string {
	if len(s) > 160 {
		return s[:157] + "..."
	}
	return s
}

func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
