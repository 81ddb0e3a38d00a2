package tfrunner

import tfjson "github.com/hashicorp/terraform-json"

// ClientResolver returns the resolve function FindCredentials takes: it maps the address of
// each auth0_client resource or data source of the root module (e.g. "auth0_client.billing",
// `auth0_client.app["x"]`) to the client id recorded in state.
func ClientResolver(state *tfjson.State) func(ref string) (string, bool) {
	ids := map[string]string{}
	if state != nil && state.Values != nil && state.Values.RootModule != nil {
		for _, r := range state.Values.RootModule.Resources {
			if r.Type != "auth0_client" {
				continue
			}
			if id, ok := r.AttributeValues["client_id"].(string); ok && id != "" {
				ids[r.Address] = id
			} else if id, ok := r.AttributeValues["id"].(string); ok {
				ids[r.Address] = id
			}
		}
	}
	return func(ref string) (string, bool) {
		id, ok := ids[ref]
		return id, ok
	}
}

// stateResources returns every resource instance in state, of the root module and of every
// module below it.
func stateResources(state *tfjson.State) []*tfjson.StateResource {
	if state == nil || state.Values == nil || state.Values.RootModule == nil {
		return nil
	}
	var out []*tfjson.StateResource
	var walk func(m *tfjson.StateModule)
	walk = func(m *tfjson.StateModule) {
		out = append(out, m.Resources...)
		for _, child := range m.ChildModules {
			walk(child)
		}
	}
	walk(state.Values.RootModule)
	return out
}

// CredentialsAddresses returns the full address of each auth0_client_credentials instance
// the state records for clientID, in any module and of any for_each or count: e.g.
// `module.m2m["billing"].auth0_client_credentials.this`.
func CredentialsAddresses(state *tfjson.State, clientID string) []string {
	var out []string
	for _, r := range stateResources(state) {
		if r.Mode == tfjson.ManagedResourceMode && r.Type == "auth0_client_credentials" && str(r.AttributeValues["client_id"]) == clientID {
			out = append(out, r.Address)
		}
	}
	return out
}

// stateCredentials returns the private_key_jwt credentials the state records for the
// auth0_client_credentials instance at address.
func stateCredentials(state *tfjson.State, address string) []map[string]any {
	var out []map[string]any
	for _, r := range stateResources(state) {
		if r.Address != address {
			continue
		}
		for _, item := range credentialItems(r.AttributeValues) {
			if m, ok := item.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// StateCredentialIDs returns the ids of the private_key_jwt credentials the state records for
// the auth0_client_credentials instance at address (empty ids, of credentials an interrupted
// apply never finished, are left out).
func StateCredentialIDs(state *tfjson.State, address string) []string {
	var ids []string
	for _, m := range stateCredentials(state, address) {
		if id := str(m["id"]); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// StateCredentialBlocks returns the credentials the state records for the instance at
// address, as literal blocks would declare them: what rekey knows of a layout it cannot read.
func StateCredentialBlocks(state *tfjson.State, address string) []CredentialBlock {
	var out []CredentialBlock
	for _, m := range stateCredentials(state, address) {
		b := CredentialBlock{Name: str(m["name"]), CredentialType: str(m["credential_type"]), Algorithm: str(m["algorithm"]), PEM: str(m["pem"]), ExpiresAt: str(m["expires_at"])}
		if parse, ok := m["parse_expiry_from_cert"].(bool); ok {
			b.ParseExpiryFromCert = &parse
			if parse {
				b.ExpiresAt = "" // Auth0's, read from the certificate, not configured
			}
		}
		out = append(out, b)
	}
	return out
}
