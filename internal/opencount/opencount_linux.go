//go:build linux

package opencount

import (
	"bytes"
	"errors"
	"path/filepath"
	"syscall"
	"unsafe"
)

// Counter counts the opens of one file, by name, in its folder (inotify's IN_OPEN),
// by any process, from Watch on.
type Counter struct {
	fd    int
	name  string
	count int
}

// Watch starts counting the opens of path; its folder must exist. Call Close when done.
func Watch(path string) (*Counter, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if _, err := syscall.InotifyAddWatch(fd, filepath.Dir(path), syscall.IN_OPEN); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return &Counter{fd: fd, name: filepath.Base(path)}, nil
}

// Opens is how often the file was opened since Watch (or the last Reset). The kernel
// queues an event when the open happens, so every open that has returned is counted.
func (c *Counter) Opens() (int, error) {
	buf := make([]byte, 64<<10)
	for {
		n, err := syscall.Read(c.fd, buf)
		if errors.Is(err, syscall.EAGAIN) {
			return c.count, nil
		}
		if err != nil {
			return c.count, err
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+int(ev.Len)]
			if string(bytes.TrimRight(name, "\x00")) == c.name && ev.Mask&syscall.IN_OPEN != 0 {
				c.count++
			}
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
	}
}

// Reset counts from zero again.
func (c *Counter) Reset() error {
	_, err := c.Opens()
	c.count = 0
	return err
}

// Close stops counting.
func (c *Counter) Close() error { return syscall.Close(c.fd) }
