package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// Properties are the parts of an Auth0 object whose rules the sandbox does not model: stored
// as the JSON object Auth0 returns and changed the way Auth0's PATCH endpoints change them.

// mergePatch returns doc changed by patch as a JSON merge patch (RFC 7386), which is how Auth0
// treats nested objects on PATCH: null removes a property, an object merges into an object,
// anything else replaces. doc is left untouched.
func mergePatch(doc, patch map[string]any) map[string]any {
	out := cloneObject(doc)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(out, k)
		case map[string]any:
			cur, _ := out[k].(map[string]any)
			out[k] = mergePatch(cur, pv)
		default:
			out[k] = cloneJSON(v)
		}
	}
	return out
}

// cloneObject deep-copies a JSON object; nil stays nil.
func cloneObject(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneJSON(v)
	}
	return out
}

// cloneJSON deep-copies a value decoded from JSON.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneObject(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneJSON(e)
		}
		return out
	default:
		return v
	}
}

// decodeBody reads a JSON object body, keeping each property's raw value, and refuses a
// property outside allowed, as Auth0's schemas do.
func decodeBody(r *http.Request, allowed []string) (map[string]json.RawMessage, error) {
	var body map[string]json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
		return nil, badRequest(fmt.Sprintf("Payload validation error: invalid JSON body: %v.", err), "invalid_body")
	}
	if body == nil {
		return nil, badRequest("Payload validation error: 'Expected type object but found type null'.", "invalid_body")
	}
	var extra []string
	for k := range body {
		if !slices.Contains(allowed, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return nil, badRequest(fmt.Sprintf("Payload validation error: 'Additional properties not allowed: %s'.", extra[0]), "invalid_body")
	}
	return body, nil
}

// decodeProperty unmarshals one property of a body, when present, into dst, naming the
// property on failure.
func decodeProperty(body map[string]json.RawMessage, key string, dst any) error {
	raw, ok := body[key]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return badRequest(fmt.Sprintf("Payload validation error: invalid type for %s: %v.", key, err), "invalid_body")
	}
	return nil
}

// propertyBag decodes every property of body except those in skip into a merge patch (JSON
// null kept, so that it removes the property).
func propertyBag(body map[string]json.RawMessage, skip []string) (map[string]any, error) {
	bag := map[string]any{}
	for k := range body {
		if slices.Contains(skip, k) {
			continue
		}
		var v any
		if err := decodeProperty(body, k, &v); err != nil {
			return nil, err
		}
		bag[k] = v
	}
	return bag, nil
}
