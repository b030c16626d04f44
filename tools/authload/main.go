// Command authload measures auth servers side by side, one at a time, in one run: time
// from start to ready, resident memory when idle, and password and refresh grants per
// second at the concurrencies asked for. It measures `iqmauth serve` (started from a
// binary with a realm file) and, when told how, Keycloak (started by a command, or one
// already running). Standard library only.
//
//	go -C tools run ./authload -iqmauth /tmp/iqmauth -realm-file ../interop/keycloak/realm-cortex.json \
//	    -keycloak-start '../.ci/keycloak start /tmp/kc.env' -keycloak-stop '../.ci/keycloak stop /tmp/kc.env'
//
// The password comes from $AUTHLOAD_PASSWORD, else from the realm file's user. Output
// is a Markdown table (BENCHMARKS.md has one).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type options struct {
	iqmauth, serveArgs, realmFile string
	kcStart, kcStop, kcURL        string
	kcPID                         int
	realm, client, user, password string
	duration, idle                time.Duration
	concurrency                   []int
}

type result struct {
	name     string
	start    time.Duration // 0: not measured
	rss      int64         // bytes; 0: not measured
	password map[int]float64
	refresh  map[int]float64
	errs     []string
}

func main() {
	var o options
	var conc string
	flag.StringVar(&o.iqmauth, "iqmauth", "", "iqmauth binary to measure (`iqmauth serve --addr 127.0.0.1:0 --import-realm FILE`)")
	flag.StringVar(&o.serveArgs, "serve-args", "", "more arguments for iqmauth serve, space-separated")
	flag.StringVar(&o.realmFile, "realm-file", "", "realm file for iqmauth serve (and the password of -user)")
	flag.StringVar(&o.kcStart, "keycloak-start", "", "shell command that starts Keycloak and prints KEYCLOAK_URL=... and KEYCLOAK_PID=... when it is ready")
	flag.StringVar(&o.kcStop, "keycloak-stop", "", "shell command that stops the Keycloak that -keycloak-start started")
	flag.StringVar(&o.kcURL, "keycloak-url", "", "a Keycloak already running (rates only; its memory too with -keycloak-pid)")
	flag.IntVar(&o.kcPID, "keycloak-pid", 0, "the process (group leader) of -keycloak-url, for its memory")
	flag.StringVar(&o.realm, "realm", "cortex", "realm")
	flag.StringVar(&o.client, "client", "iqm_client", "client id")
	flag.StringVar(&o.user, "user", "alice", "username")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long each rate is measured")
	flag.DurationVar(&o.idle, "idle", 3*time.Second, "how long a server idles after ready before its memory is read")
	flag.StringVar(&conc, "concurrency", "1,8", "concurrencies, comma-separated")
	flag.Parse()
	for _, f := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fatal("-concurrency: %q is not a positive number", f)
		}
		o.concurrency = append(o.concurrency, n)
	}
	o.password = os.Getenv("AUTHLOAD_PASSWORD")
	if o.password == "" && o.realmFile != "" {
		o.password = passwordFromRealm(o.realmFile, o.user)
	}
	if o.password == "" {
		fatal("no password: set AUTHLOAD_PASSWORD or give a -realm-file with -user's password")
	}
	if o.iqmauth == "" && o.kcStart == "" && o.kcURL == "" {
		fatal("nothing to measure: give -iqmauth, -keycloak-start or -keycloak-url")
	}
	var results []result
	if o.iqmauth != "" {
		results = append(results, measureServe(o))
	}
	if o.kcStart != "" || o.kcURL != "" {
		results = append(results, measureKeycloak(o))
	}
	printTable(os.Stdout, o, results)
}

func fatal(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "authload: "+format+"\n", a...)
	os.Exit(2)
}

func logf(format string, a ...any) { fmt.Fprintf(os.Stderr, "authload: "+format+"\n", a...) }

func passwordFromRealm(file, user string) string {
	data, err := os.ReadFile(file)
	if err != nil {
		fatal("-realm-file: %v", err)
	}
	var r struct {
		Users []struct {
			Username    string `json:"username"`
			Credentials []struct {
				Type, Value string
			} `json:"credentials"`
		} `json:"users"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		fatal("-realm-file: not a realm file")
	}
	for _, u := range r.Users {
		if strings.EqualFold(u.Username, user) {
			for _, c := range u.Credentials {
				if c.Type == "password" {
					return c.Value
				}
			}
		}
	}
	return ""
}

// measureServe starts iqmauth serve, times it to ready, reads its memory, measures
// the rates and stops it.
func measureServe(o options) result {
	res := result{name: "iqmauth serve", password: map[int]float64{}, refresh: map[int]float64{}}
	args := []string{"serve", "--addr", "127.0.0.1:0"}
	if o.realmFile != "" {
		args = append(args, "--import-realm", o.realmFile)
	}
	args = append(args, strings.Fields(o.serveArgs)...)
	cmd := exec.Command(o.iqmauth, args...)
	cmd.Stderr = nil // /dev/null, without a copying goroutine in this process
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fatal("%v", err)
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		fatal("starting %s: %v", o.iqmauth, err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		fatal("iqmauth serve printed no URL: %v", err)
	}
	base := strings.TrimSpace(line)
	if err := waitReady(base, o.realm, time.Minute); err != nil {
		fatal("iqmauth serve: %v", err)
	}
	res.start = time.Since(t0)
	logf("iqmauth serve ready in %v at %s", res.start, base)
	time.Sleep(o.idle)
	res.rss = treeRSS(cmd.Process.Pid)
	rates(o, base, &res)
	return res
}

// measureKeycloak starts Keycloak with the start command (or uses one running),
// times it to ready, reads its memory (the JVM and its parent), measures the rates
// and stops it.
func measureKeycloak(o options) result {
	res := result{name: "Keycloak", password: map[int]float64{}, refresh: map[int]float64{}}
	base, pid := o.kcURL, o.kcPID
	if o.kcStart != "" {
		t0 := time.Now()
		out, err := exec.Command("sh", "-c", o.kcStart).Output()
		if err != nil {
			fatal("-keycloak-start: %v", err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(l, "KEYCLOAK_URL="); ok {
				base = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(l, "KEYCLOAK_PID="); ok {
				pid, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if base == "" {
			fatal("-keycloak-start printed no KEYCLOAK_URL=")
		}
		if err := waitReady(base, o.realm, 10*time.Minute); err != nil {
			fatal("Keycloak: %v", err)
		}
		res.start = time.Since(t0)
		logf("Keycloak ready in %v at %s", res.start, base)
		if o.kcStop != "" {
			defer func() {
				if out, err := exec.Command("sh", "-c", o.kcStop).CombinedOutput(); err != nil {
					logf("-keycloak-stop: %v %s", err, out)
				}
			}()
		}
	}
	time.Sleep(o.idle)
	if pid > 0 {
		res.rss = treeRSS(pid)
	}
	rates(o, base, &res)
	return res
}

// waitReady polls the realm's discovery document until it answers 200.
func waitReady(base, realm string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	u := base + "/realms/" + url.PathEscape(realm) + "/.well-known/openid-configuration"
	for time.Now().Before(deadline) {
		resp, err := http.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %v", u, limit)
}

// treeRSS sums the resident memory of pid and its descendants (Linux /proc).
func treeRSS(pid int) int64 {
	children := map[int][]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		data, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		p, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(d, "/proc/"), "/stat"))
		pp, _ := strconv.Atoi(f[1])
		children[pp] = append(children[pp], p)
	}
	var total int64
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = append(queue[1:], children[p]...)
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				total += kb << 10
			}
		}
	}
	return total
}

// forms are the request bodies, encoded once.
type forms struct{ password, refreshPrefix string }

func newForms(o options) forms {
	return forms{
		// client_id, grant_type, username, password: the order of the Python client.
		password: "client_id=" + url.QueryEscape(o.client) + "&grant_type=password&username=" +
			url.QueryEscape(o.user) + "&password=" + url.QueryEscape(o.password),
		refreshPrefix: "client_id=" + url.QueryEscape(o.client) + "&grant_type=refresh_token&refresh_token=",
	}
}

// rates measures password and refresh grants per second at each concurrency, each
// worker on a keep-alive connection of its own.
func rates(o options, base string, res *result) {
	tokenURL := base + "/realms/" + url.PathEscape(o.realm) + "/protocol/openid-connect/token"
	f := newForms(o)
	for _, n := range o.concurrency {
		worker := func(grant func(c *conn) error) func(context.Context) (func() error, func()) {
			return func(ctx context.Context) (func() error, func()) {
				c, err := newConn(ctx, tokenURL)
				if err != nil {
					fatal("%v", err)
				}
				return func() error { return grant(c) }, c.close
			}
		}
		res.password[n] = run(o, n, res, "password", worker(func(c *conn) error {
			_, err := c.grant(f.password)
			return err
		}))
		res.refresh[n] = run(o, n, res, "refresh", func(ctx context.Context) (func() error, func()) {
			c, err := newConn(ctx, tokenURL)
			if err != nil {
				fatal("%v", err)
			}
			rt, err := c.grant(f.password)
			return func() error {
				if err != nil {
					return err
				}
				var next string
				if next, err = c.grant(f.refreshPrefix + url.QueryEscape(rt)); err == nil && next != "" {
					rt = next // the newest, so that rotation works too
				}
				return err
			}, c.close
		})
		logf("%s c=%d: %.1f password grants/s, %.1f refreshes/s", res.name, n, res.password[n], res.refresh[n])
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// run runs n workers for o.duration after a warm-up of a tenth of it and returns the
// successful operations per second.
func run(o options, n int, res *result, what string, worker func(context.Context) (step func() error, done func())) float64 {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ok, failed atomic.Int64
	var measuring atomic.Bool
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			step, done := worker(ctx)
			defer done()
			for ctx.Err() == nil {
				err := step()
				if !measuring.Load() || ctx.Err() != nil {
					continue
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	time.Sleep(o.duration / 10)
	cpu0 := cpuTime()
	measuring.Store(true)
	t0 := time.Now()
	time.Sleep(o.duration)
	measuring.Store(false)
	elapsed := time.Since(t0)
	if done := ok.Load() + failed.Load(); done > 0 {
		logf("%s %s c=%d: the load program used %v of CPU per request", res.name, what, n,
			((cpuTime() - cpu0) / time.Duration(done)).Round(time.Microsecond))
	}
	cancel()
	wg.Wait()
	if f := failed.Load(); f > 0 {
		res.errs = append(res.errs, fmt.Sprintf("%s c=%d: %d failed (%v)", what, n, f, firstErr.Load()))
	}
	return float64(ok.Load()) / elapsed.Seconds()
}

func printTable(w io.Writer, o options, rs []result) {
	fmt.Fprintf(w, "| server | start to ready | idle RSS |")
	for _, n := range o.concurrency {
		fmt.Fprintf(w, " password/s c=%d |", n)
	}
	for _, n := range o.concurrency {
		fmt.Fprintf(w, " refresh/s c=%d |", n)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, "|---|---|---|")
	for range 2 * len(o.concurrency) {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %s | %s |", r.name, dur(r.start), mib(r.rss))
		for _, n := range o.concurrency {
			fmt.Fprintf(w, " %.1f |", r.password[n])
		}
		for _, n := range o.concurrency {
			fmt.Fprintf(w, " %.1f |", r.refresh[n])
		}
		fmt.Fprintln(w)
	}
	if len(rs) == 2 {
		a, b := rs[0], rs[1]
		fmt.Fprintf(w, "| ratio %s / %s | %s | %s |", b.name, a.name, ratio(b.start.Seconds(), a.start.Seconds()), ratio(float64(b.rss), float64(a.rss)))
		for _, n := range o.concurrency {
			fmt.Fprintf(w, " %s |", ratio(a.password[n], b.password[n]))
		}
		for _, n := range o.concurrency {
			fmt.Fprintf(w, " %s |", ratio(a.refresh[n], b.refresh[n]))
		}
		fmt.Fprintln(w)
	}
	for _, r := range rs {
		for _, e := range r.errs {
			fmt.Fprintf(w, "\n%s: %s\n", r.name, e)
		}
	}
}

func dur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func mib(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fx", a/b)
}
