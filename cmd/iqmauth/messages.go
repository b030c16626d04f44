package main

import (
	"errors"
	"strings"

	"github.com/iqm-finland/authschema/api/authclient"
)

// configFlags maps the authclient.Config fields that a refusal names
// (authclient.ConfigError's Field) to the flag that sets them here.
var configFlags = map[string]string{"AllowInsecureHTTP": "--allow-insecure-http"}

// userText is err's message for a user of the command line: a Config field that the
// library's text names is replaced with the flag that sets it.
func userText(err error) string {
	msg := err.Error()
	var ce *authclient.ConfigError
	if errors.As(err, &ce) && ce.Field != "" {
		if flag, ok := configFlags[ce.Field]; ok {
			msg = strings.ReplaceAll(msg, "Config."+ce.Field, flag)
		}
	}
	return msg
}
