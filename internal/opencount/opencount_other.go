//go:build !linux

package opencount

import "errors"

// Counter counts the opens of one file; only on Linux (inotify).
type Counter struct{}

// Watch fails where there is no inotify: the tests that count opens skip there.
func Watch(path string) (*Counter, error) { return nil, errors.ErrUnsupported }

// Opens is not reached.
func (c *Counter) Opens() (int, error) { return 0, errors.ErrUnsupported }

// Reset is not reached.
func (c *Counter) Reset() error { return errors.ErrUnsupported }

// Close does nothing.
func (c *Counter) Close() error { return nil }
