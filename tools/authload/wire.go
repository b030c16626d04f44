package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// conn is one worker's keep-alive HTTP/1.1 connection, spoken by hand: the load
// program shares the machine's cores with the server it measures, and net/http's
// client with a JSON decoder cost about 150 µs of CPU per grant here, a sixth of what
// serve spends on it. This costs a fraction of that: the request is written with one
// call from a reused buffer, and the answer is read with its Content-Length (or
// chunks), and only the refresh token is picked out of it. Both servers are measured
// with it.
type conn struct {
	ctx              context.Context // ends the connection's requests
	addr, host, path string
	c                net.Conn
	r                *bufio.Reader
	req, body        []byte
}

// maxAnswer bounds an answer's body.
const maxAnswer = 1 << 20

var (
	errStatus = errors.New("unexpected status")
	errAnswer = errors.New("malformed answer")
)

func newConn(ctx context.Context, tokenURL string) (*conn, error) {
	u, err := url.Parse(tokenURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%s: only http:// is measured", tokenURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &conn{ctx: ctx, addr: addr, host: u.Host, path: u.EscapedPath()}, nil
}

func (c *conn) close() {
	if c.c != nil {
		_ = c.c.Close()
		c.c = nil
	}
}

// grant posts a form and returns the answer's refresh_token (empty if it has none).
func (c *conn) grant(form string) (string, error) {
	if c.c == nil {
		d := net.Dialer{Timeout: 10 * time.Second}
		nc, err := d.DialContext(c.ctx, "tcp", c.addr)
		if err != nil {
			return "", err
		}
		// When ctx ends, a request waiting on the connection ends too.
		context.AfterFunc(c.ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
		c.c, c.r = nc, bufio.NewReaderSize(nc, 16<<10)
	}
	if c.ctx.Err() == nil {
		_ = c.c.SetDeadline(time.Now().Add(time.Minute))
	}
	c.req = append(c.req[:0], "POST "...)
	c.req = append(c.req, c.path...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, c.host...)
	c.req = append(c.req, "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "...)
	c.req = strconv.AppendInt(c.req, int64(len(form)), 10)
	c.req = append(c.req, "\r\n\r\n"...)
	c.req = append(c.req, form...)
	if _, err := c.c.Write(c.req); err != nil {
		c.close()
		return "", err
	}
	status, keep, err := c.readAnswer()
	if err != nil || !keep {
		c.close()
	}
	if err != nil {
		return "", err
	}
	if status != 200 {
		return "", fmt.Errorf("%w %d", errStatus, status)
	}
	_, rt, found := bytes.Cut(c.body, []byte(`"refresh_token":"`))
	if !found {
		return "", nil
	}
	rt, _, found = bytes.Cut(rt, []byte(`"`))
	if !found {
		return "", errAnswer
	}
	return string(rt), nil
}

// readAnswer reads a status line, headers and body into c.body; keep says whether
// the connection may carry the next request.
func (c *conn) readAnswer() (status int, keep bool, err error) {
	line, err := c.line()
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, errAnswer
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, errAnswer
	}
	keep = line[7] == '1'
	length, chunked := -1, false
	for {
		h, err := c.line()
		if err != nil {
			return 0, false, err
		}
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, false, errAnswer
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 || length > maxAnswer {
				return 0, false, errAnswer
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = keep && !bytes.EqualFold(value, []byte("close"))
		}
	}
	c.body = c.body[:0]
	switch {
	case chunked:
		err = c.readChunks()
	case length >= 0:
		c.body = growTo(c.body, length)
		_, err = io.ReadFull(c.r, c.body)
	default: // the body ends with the connection
		keep = false
		var b []byte
		b, err = io.ReadAll(io.LimitReader(c.r, maxAnswer))
		c.body = append(c.body, b...)
	}
	return status, keep, err
}

func (c *conn) readChunks() error {
	for {
		line, err := c.line()
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 32)
		if err != nil || n < 0 || len(c.body)+int(n) > maxAnswer {
			return errAnswer
		}
		if n == 0 {
			for { // trailers, then the blank line
				if l, err := c.line(); err != nil || len(l) == 0 {
					return err
				}
			}
		}
		start := len(c.body)
		c.body = growTo(c.body, start+int(n))
		if _, err := io.ReadFull(c.r, c.body[start:]); err != nil {
			return err
		}
		if l, err := c.line(); err != nil || len(l) != 0 {
			return errors.Join(err, errAnswer)
		}
	}
}

// line reads one line without its CRLF; the slice is valid until the next read.
func (c *conn) line() ([]byte, error) {
	l, err := c.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(l, []byte("\n")), []byte("\r")), nil
}

func growTo(b []byte, n int) []byte {
	if cap(b) < n {
		b = append(b[:cap(b)], make([]byte, n-cap(b))...)
	}
	return b[:n]
}
