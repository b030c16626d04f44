// Package tokensfile reads and writes the tokens file of the Cortex CLI
// (~/.cache/iqm-cortex-cli/tokens.json), safely when several processes share it: it
// writes atomically with mode 0600 under an advisory lock, keeps the members it does
// not own (Cortex's pid among them) exactly as they were and never writes a pid of
// its own, and never reads what is not a regular file.
package tokensfile
