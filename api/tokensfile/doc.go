// Package tokensfile reads and writes the tokens file of the Cortex CLI
// (~/.cache/iqm-cortex-cli/tokens.json), safely when several processes share it: it
// reads members by their exact names, as Python's json does, and parses none it does
// not use; it writes atomically with mode 0600 under an advisory lock that no other
// user can hold, keeps the members it does not own (Cortex's pid among them) exactly
// as they were, but for names that fold to its own, and never writes a pid of its
// own; a write is prepared before the request whose answer it saves, and tokens a
// killed writer left in a temporary file are recovered; and it never reads what is
// not a regular file.
package tokensfile
