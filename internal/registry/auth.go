package registry

import (
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// StaticKeychain returns a keychain that answers username/password for the
// registry host and defers to fallback (nil: anonymous) for every other
// registry. It is what --username and --password-stdin build.
func StaticKeychain(host, username, password string, fallback authn.Keychain) authn.Keychain {
	if r, err := name.NewRegistry(host); err == nil {
		host = r.RegistryStr() // docker.io → index.docker.io, as resources name it
	}
	return staticKeychain{host: host, auth: &authn.Basic{Username: username, Password: password}, fallback: fallback}
}

type staticKeychain struct {
	host     string
	auth     authn.Authenticator
	fallback authn.Keychain
}

// Resolve implements authn.Keychain.
func (k staticKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() == k.host {
		return k.auth, nil
	}
	if k.fallback == nil {
		return authn.Anonymous, nil
	}
	return k.fallback.Resolve(r)
}
