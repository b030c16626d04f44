// Package tokensfile reads and writes the tokens file of the Cortex CLI
// (~/.cache/iqm-cortex-cli/tokens.json), safely when several processes share it: it
// reads members by their exact names, as Python's json does, and parses none it does
// not use; it never reads what is not a regular file.
//
// Read reads the file without its lock (to show it, or to use a token another process
// keeps). Update is the one way to change it: a read-modify-write under an advisory
// lock that no other user can hold, in which the file is read at most once, a write is
// prepared (Tx.Prepare) before the request whose answer it saves, and nothing changes
// when the caller's function fails. A write is atomic, with mode 0600; it keeps the
// members it does not own (Cortex's pid among them) exactly as they were, but for
// names that fold to its own, and never writes a pid of its own; tokens a killed
// writer left in a temporary file are recovered. Write and Remove are Updates that
// only write or only remove.
package tokensfile
