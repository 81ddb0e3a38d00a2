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

// StateCredentialIDs returns the ids of the private_key_jwt credentials the state records for
// the auth0_client_credentials resource at address (empty ids, of credentials an interrupted
// apply never finished, are left out).
func StateCredentialIDs(state *tfjson.State, address string) []string {
	if state == nil || state.Values == nil || state.Values.RootModule == nil {
		return nil
	}
	var ids []string
	for _, r := range state.Values.RootModule.Resources {
		if r.Address != address {
			continue
		}
		for _, item := range credentialItems(r.AttributeValues) {
			if m, ok := item.(map[string]any); ok && str(m["id"]) != "" {
				ids = append(ids, str(m["id"]))
			}
		}
	}
	return ids
}
