package main

import (
	"flag"
	"fmt"

	"github.com/iqm-finland/authschema/api/authclient"
)

// tokenFromEnv is iqmauth token with IQM_TOKEN set, by iqm-client 36's rules: the token
// is printed as it is (never parsed, never refreshed; but, as every token iqmauth
// prints, only an RFC 6750 bearer token); together with IQM_TOKENS_FILE
// (or --tokens-file) it is a configuration error naming both (exit 2). done is false
// when IQM_TOKEN is not set.
func (c *cli) tokenFromEnv(fs *flagSet, force bool) (code int, done bool) {
	token := c.getenv(authclient.EnvToken)
	if token == "" {
		return 0, false
	}
	fileFlag := false
	fs.Visit(func(f *flag.Flag) { fileFlag = fileFlag || f.Name == "tokens-file" })
	switch {
	case c.getenv(authclient.EnvTokensFile) != "":
		fmt.Fprintf(c.stderr, "iqmauth token: %s and %s are both set: %s\nunset one of them: iqm-client 36 takes exactly one\n",
			authclient.EnvToken, authclient.EnvTokensFile, authclient.MultipleSourcesMessage)
		return exitUsage, true
	case fileFlag:
		fmt.Fprintf(c.stderr, "iqmauth token: --tokens-file and %s are both given: parameter sources must not be mixed\nunset %s, or drop --tokens-file\n",
			authclient.EnvToken, authclient.EnvToken)
		return exitUsage, true
	case force:
		fmt.Fprintf(c.stderr, "iqmauth token: --force-refresh: %s is used as it is and cannot be refreshed\n", authclient.EnvToken)
		return exitUsage, true
	}
	return c.printToken(token), true
}
