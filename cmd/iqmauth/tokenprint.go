package main

import (
	"errors"
	"fmt"

	"github.com/iqm-finland/authschema/api/tokens"
)

// errNotBearer: the access token to print is not an RFC 6750 bearer token.
var errNotBearer = errors.New("access_token is not an RFC 6750 bearer token (only A-Z a-z 0-9 - . _ ~ + / and trailing =); " +
	"it is not printed: run 'iqmauth login' for new tokens")

// printToken prints the access token on a line of its own, the one output of the
// token command, once it is sure the token cannot drive the terminal or forge a line
// (tokens.ValidBearer): the tokens file may have been written by anyone.
func (c *cli) printToken(token string) int {
	if !tokens.ValidBearer(token) {
		return c.fail("token", errNotBearer)
	}
	fmt.Fprintln(c.stdout, token)
	return exitOK
}
