// Package openapi holds the OpenAPI description of the Contacts HTTP API
// (openapi.json, embedded) and reads its routes. The local runner serves the
// same file at /openapi.json; the tests keep it in step with template.yaml
// and the Go types.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Document is openapi.json as embedded at build time.
//
//go:embed openapi.json
var Document []byte

// methods are the operation keys of an OpenAPI path item; its other keys
// (parameters, summary, ...) are not operations.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Routes returns "METHOD /path" for every operation in Document, sorted.
func Routes() ([]string, error) {
	return routes(Document)
}

func routes(doc []byte) ([]string, error) {
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	var out []string
	for path, item := range d.Paths {
		for _, m := range methods {
			if _, ok := item[m]; ok {
				out = append(out, strings.ToUpper(m)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
