package steps

import (
	"path/filepath"
	"strings"

	"rekey/keys"
)

// newKeyFile is where generate writes the private key of kid: <client>-<kid>.pem in the key
// folder, the name rekeyKeyFiles looks for.
func (e *engine) newKeyFile(kid string) string {
	return filepath.Join(e.opts.KeyDir, keyFilePrefix(e.client.Name)+kid+".pem")
}

func keyFilePrefix(client string) string { return safeFileName(client) + "-" }

// rekeyKeyFiles lists the private key files rekey generated for the client in the key
// folder, by kid: files named as generate names them, <client>-<kid>.pem, that hold the key
// of that kid.
func (e *engine) rekeyKeyFiles() map[string]string {
	prefix := keyFilePrefix(e.client.Name)
	files, _ := filepath.Glob(filepath.Join(e.opts.KeyDir, prefix+"*.pem"))
	found := map[string]string{}
	for _, f := range files {
		kid := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), prefix), ".pem")
		if key, err := keys.LoadPrivateKey(f); err == nil && keys.Thumbprint(&key.PublicKey) == kid {
			found[kid] = f
		}
	}
	return found
}
