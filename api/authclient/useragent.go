package authclient

import (
	"runtime/debug"
	"sync"
)

// modulePath is this module's path, which UserAgent names.
const modulePath = "github.com/iqm-finland/authschema"

var userAgent = sync.OnceValue(func() string {
	return "authschema/" + moduleVersion() + " (+https://" + modulePath + ")"
})

// UserAgent is the User-Agent that this module's clients send, as iqm-client 35+
// names itself in its own: "authschema/<version> (+https://github.com/iqm-finland/authschema)",
// the version read from the build information of the program (the module's version
// when a program depends on it, "(devel)" when it is built from its own source or
// the information is missing).
func UserAgent() string { return userAgent() }

// moduleVersion finds this module in the program's build information.
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	return versionIn(bi)
}

func versionIn(bi *debug.BuildInfo) string {
	mods := append([]*debug.Module{&bi.Main}, bi.Deps...)
	for _, m := range mods {
		if m == nil || m.Path != modulePath {
			continue
		}
		if m.Replace != nil && m.Replace.Version != "" {
			return m.Replace.Version
		}
		if m.Version != "" {
			return m.Version
		}
	}
	return "(devel)"
}
