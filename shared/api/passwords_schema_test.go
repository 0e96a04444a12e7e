package api

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestPasswordSchemasMatchGoTypes keeps the OpenAPI schemas of the password
// routes in step with this package's unexported body types (the openapi
// package's own check cannot name them).
func TestPasswordSchemasMatchGoTypes(t *testing.T) {
	raw, err := os.ReadFile("../openapi/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Components struct {
			Schemas map[string]struct {
				Properties           map[string]any `json:"properties"`
				Required             []string       `json:"required"`
				AdditionalProperties any            `json:"additionalProperties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		schema string
		typ    any
		input  bool // decoded strictly: no unknown fields
	}{
		{"NewPassword", newPassword{}, true},
		{"ResetCompletion", resetCompletion{}, true},
		{"SignIn", signIn{}, true},
		{"SignedIn", signedIn{}, false},
	} {
		s, ok := d.Components.Schemas[c.schema]
		if !ok {
			t.Errorf("no schema %s", c.schema)
			continue
		}
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		required := slices.Clone(s.Required)
		sort.Strings(required)
		var all, always []string
		typ := reflect.TypeOf(c.typ)
		for i := range typ.NumField() {
			name, opts, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			all = append(all, name)
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				always = append(always, name)
			}
		}
		sort.Strings(all)
		sort.Strings(always)
		if !slices.Equal(props, all) {
			t.Errorf("schema %s has properties %v, Go type %T has JSON fields %v", c.schema, props, c.typ, all)
		}
		if c.input {
			if s.AdditionalProperties != false {
				t.Errorf("schema %s: unknown fields are refused, so additionalProperties must be false", c.schema)
			}
		} else if !slices.Equal(required, always) {
			t.Errorf("schema %s requires %v; %T always has %v", c.schema, required, c.typ, always)
		}
	}
}
