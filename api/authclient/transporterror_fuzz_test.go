package authclient_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iqm-finland/authschema/api/authclient"
	"github.com/iqm-finland/authschema/internal/testsafe"
)

// FuzzTransportError: a server on loopback answers raw bytes with an echo of the
// password (in any of the forms a server might use) at any place; whatever the client
// makes of it, no error text in the tree it returns shows a run of the password or a
// control character, and an error that is not an answer is an ErrNoAnswer.
func FuzzTransportError(f *testing.F) {
	f.Add([]byte("HTTP/1.1 2x0 password=\r\n\r\n"), uint16(22), uint8(0))
	f.Add([]byte("HTTP/1.1 200 OK\r\nX-A: b\r\n\r\n\r\n"), uint16(25), uint8(1))
	f.Add([]byte("HTTP/1.1 302 Found\r\nLocation: https://sso.example/login%zz?password=\r\nContent-Length: 0\r\n\r\n"), uint16(69), uint8(2))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n"), uint16(33), uint8(3))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n"), uint16(47), uint8(4))
	f.Add([]byte("password=\x1b[2J\r\n\r\n"), uint16(9), uint8(5))
	f.Add([]byte("HTTP/1.1 400 Bad\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nbad: "), uint16(70), uint8(6))

	var answers sync.Map // username -> answer
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				body, _ := io.ReadAll(req.Body)
				form, _ := url.ParseQuery(string(body))
				if a, ok := answers.Load(form.Get("username")); ok {
					conn.Write(a.([]byte))
				}
			}()
		}
	}()
	c, err := authclient.New(authclient.Config{ServerURL: "http://" + ln.Addr().String(), Timeout: 5 * time.Second,
		HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}})
	if err != nil {
		f.Fatal(err)
	}
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, raw []byte, pos uint16, which uint8) {
		forms := secretForms(echoPassword)
		p := int(pos) % (len(raw) + 1)
		answer := append(append(append([]byte(nil), raw[:p]...), forms[int(which)%len(forms)]...), raw[p:]...)
		user := "u" + strconv.FormatInt(n.Add(1), 10) // the server's key to this answer
		answers.Store(user, answer)
		defer answers.Delete(user)
		_, err := c.Login(context.Background(), user, echoPassword)
		if err == nil {
			return
		}
		var ae *authclient.Error
		if !errors.As(err, &ae) && !errors.Is(err, authclient.ErrNoAnswer) {
			t.Errorf("neither an answer nor ErrNoAnswer: %T", err)
		}
		for _, text := range errorTree(err) {
			if l := leak(text, echoPassword); l != "" {
				t.Fatalf("error shows a run of the password (%d bytes): %q", len(l), testsafe.Text(text, secretForms(echoPassword)...))
			}
			if strings.ContainsFunc(text, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				t.Fatalf("error has a control character: %q", testsafe.Text(text, secretForms(echoPassword)...))
			}
		}
	})
}
