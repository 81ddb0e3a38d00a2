package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Paging limits of the Management API.
const (
	defaultPerPage = 50
	maxPerPage     = 100
	timeFormat     = "2006-01-02T15:04:05.000Z"
)

// managementAPI serves the Management API v2 subset a machine-to-machine workspace uses.
type managementAPI struct {
	tenant *Tenant
	auth   *authority
}

func (m *managementAPI) routes(mux *http.ServeMux) {
	handle := func(pattern, scope string, h func(*http.Request) (int, any, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := m.auth.checkBearer(r.Header.Get("Authorization"), scope); err != nil {
				writeAPIError(w, err)
				return
			}
			status, body, err := h(r)
			if err != nil {
				writeAPIError(w, err)
				return
			}
			writeJSON(w, status, body)
		})
	}
	handle("GET /api/v2/clients", "read:clients", m.listClients)
	handle("POST /api/v2/clients", "create:clients", m.createClient)
	handle("GET /api/v2/clients/{id}", "read:clients", m.getClient)
	handle("PATCH /api/v2/clients/{id}", "update:clients", m.patchClient)
	handle("DELETE /api/v2/clients/{id}", "delete:clients", m.deleteClient)
	handle("GET /api/v2/clients/{id}/credentials", "read:client_credentials", m.listCredentials)
	handle("POST /api/v2/clients/{id}/credentials", "create:client_credentials", m.createCredential)
	handle("GET /api/v2/clients/{id}/credentials/{cred}", "read:client_credentials", m.getCredential)
	handle("PATCH /api/v2/clients/{id}/credentials/{cred}", "update:client_credentials", m.patchCredential)
	handle("DELETE /api/v2/clients/{id}/credentials/{cred}", "delete:client_credentials", m.deleteCredential)
	handle("GET /api/v2/client-grants", "read:client_grants", m.listGrants)
	handle("POST /api/v2/client-grants", "create:client_grants", m.createGrant)
	handle("GET /api/v2/client-grants/{id}", "read:client_grants", m.getGrant)
	handle("PATCH /api/v2/client-grants/{id}", "update:client_grants", m.patchGrant)
	handle("DELETE /api/v2/client-grants/{id}", "delete:client_grants", m.deleteGrant)
	handle("GET /api/v2/resource-servers", "read:resource_servers", m.listResourceServers)
	handle("POST /api/v2/resource-servers", "create:resource_servers", m.createResourceServer)
	handle("GET /api/v2/resource-servers/{id}", "read:resource_servers", m.getResourceServer)
	handle("PATCH /api/v2/resource-servers/{id}", "update:resource_servers", m.patchResourceServer)
	handle("DELETE /api/v2/resource-servers/{id}", "delete:resource_servers", m.deleteResourceServer)
}

// listBody is one page of a list as Auth0 returns it: the plain array, or with
// include_totals=true an object holding start, limit, length, total and the items under key.
func listBody[T any](q map[string][]string, key string, items []T, start, limit, total int) any {
	if first(q, "include_totals") != "true" {
		return items
	}
	return map[string]any{"start": start, "limit": limit, "length": len(items), "total": total, key: items}
}

// pageOf renders the page of all that page mode's page and per_page ask for as listBody does.
func pageOf[T any](q map[string][]string, key string, all []T) (any, error) {
	page, perPage, err := pageParams(q)
	if err != nil {
		return nil, err
	}
	start := min(page*perPage, len(all))
	items := append(make([]T, 0, perPage), all[start:min(start+perPage, len(all))]...)
	return listBody(q, key, items, start, perPage, len(all)), nil
}

// viewed is a handler's result for a tenant call that returns one object: its view, or the
// call's error.
func viewed[T any](status int, v T, err error, view func(T) map[string]any) (int, any, error) {
	if err != nil {
		return 0, nil, err
	}
	return status, view(v), nil
}

// noContent is a handler's result for a tenant call that deletes: 204, or the call's error.
func noContent(err error) (int, any, error) {
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// fieldFilter implements fields/include_fields: keep (or drop) the named properties.
func fieldFilter(q map[string][]string) (func(map[string]any) map[string]any, error) {
	fields := first(q, "fields")
	if fields == "" {
		return func(v map[string]any) map[string]any { return v }, nil
	}
	names := strings.Split(fields, ",")
	include := first(q, "include_fields") != "false"
	return func(v map[string]any) map[string]any {
		out := map[string]any{}
		for k, val := range v {
			if slices.Contains(names, k) == include {
				out[k] = val
			}
		}
		return out
	}, nil
}

func first(q map[string][]string, key string) string {
	if v := q[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// pageParams reads page mode's page and per_page.
func pageParams(q map[string][]string) (page, perPage int, err error) {
	if page, err = queryInt(q, "page", 0, 0, 1<<30); err != nil {
		return 0, 0, err
	}
	perPage, err = queryInt(q, "per_page", defaultPerPage, 0, maxPerPage)
	return page, perPage, err
}

// queryInt reads an integer query parameter within [lo, hi].
func queryInt(q map[string][]string, key string, def, lo, hi int) (int, error) {
	s := first(q, key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badRequest(fmt.Sprintf("Query validation error: '%s' must be an integer from %d to %d, got %q.", key, lo, hi, s), "invalid_query_string")
	}
	return n, nil
}

// decodeStrict reads a JSON body, refusing unknown properties as Auth0's schemas do.
func decodeStrict(r *http.Request, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		msg := err.Error()
		if field, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return badRequest(fmt.Sprintf("Payload validation error: 'Additional properties not allowed: %s'.", strings.Trim(field, `"`)), "invalid_body")
		}
		return badRequest(fmt.Sprintf("Payload validation error: invalid JSON body: %s.", msg), "invalid_body")
	}
	return nil
}
