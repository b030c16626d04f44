// Package opencount counts, for tests, how often a file is opened: the tokens file's
// readers promise one read per command, and a test of a command run as a process
// checks it from outside, with nothing added to the code it measures. Test-only.
package opencount
