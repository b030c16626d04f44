// Package server is the server interface generated from openapi.yaml
// (ServerInterface: RequestToken, Logout) and its net/http router (HandlerWithOptions),
// on the models of package generated. api/receiver routes through it.
package server
